//! The bounds of the OP's hot paths, with the provider's default parameters: one argon2id
//! verification (a login's floor), one RS256 and one ES256 signature of an ID token.
//! `cargo bench -p educonnect-bench`

use criterion::{criterion_group, criterion_main, Criterion};
use educonnect::config::Config;
use educonnect::tokens::keys::LoadedKey;
use educonnect::tokens::SigningAlg;

use educonnect_bench::bounds;

fn argon2(c: &mut Criterion) {
    let config = Config::default().password;
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(20);
    group.bench_function("verify (default parameters)", |b| {
        b.iter(|| bounds::argon2_verify(&config, 1).unwrap())
    });
    group.finish();
}

fn signatures(c: &mut Criterion) {
    let claims = bounds::id_token_claims();
    for alg in SigningAlg::ALL {
        let key = LoadedKey::generate_unpublished(alg).unwrap();
        c.bench_function(&format!("sign ID token {}", alg.as_str()), |b| {
            b.iter(|| educonnect::tokens::jwt::sign(&key, "JWT", &claims).unwrap())
        });
    }
}

criterion_group!(benches, argon2, signatures);
criterion_main!(benches);
