//! The fake FranceConnect (`educonnect::federation::fake`) next to a test provider pointed at
//! it: shared by the protocol tests (tests/protocol/federation.rs and the FranceConnect login
//! and tie tests) and the browser tests (tests/browser/franceconnect.rs).

use educonnect::config::{Config, Redacted};
use educonnect::federation::fake::{FakeFranceConnect, FakeSettings};

use super::{Backend, TestOp};

/// The fake, and a provider configured to use it (`configure` runs after the
/// `[franceconnect]` section is pointed at the fake).
pub async fn op_with_fake(
    backend: Backend,
    configure: impl FnOnce(&mut Config),
) -> (TestOp, FakeFranceConnect) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fake = FakeFranceConnect::start(
        listener,
        FakeSettings {
            client_id: "educonnect-test".into(),
            client_secret: Redacted(educonnect::secrets::random_b64(32)),
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
        },
    )
    .await
    .unwrap();
    let op = TestOp::start_with(backend, |config| {
        fake.configure(&mut config.franceconnect);
        configure(config);
    })
    .await;
    // The provider's address is known now: its callback is the registered redirect URI.
    fake.register(FakeSettings::for_provider(&op.app.config));
    (op, fake)
}
