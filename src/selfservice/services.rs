//! What the self-service procedures use of the provider, each as the narrow trait it needs
//! (CONVENTIONS: domain functions take narrow traits, not the whole `App`): built once per
//! request by the handler with `Services::of`.

use std::sync::Arc;

use crate::accounts::password::PasswordHasher;
use crate::accounts::sessions::Sessions;
use crate::app::App;
use crate::clock::Clock;
use crate::config::Config;
use crate::notify::sms::SmsSender;
use crate::store::{AccountStore, AuditStore, EphemeralStore, OutboxStore};
use crate::tokens::kek::Kek;

pub struct Services<'a> {
    pub accounts: &'a dyn AccountStore,
    pub outbox: &'a dyn OutboxStore,
    pub audit: &'a dyn AuditStore,
    pub ephemeral: &'a dyn EphemeralStore,
    pub passwords: &'a PasswordHasher,
    /// Ends an account's SSO sessions and refresh grants when its password changes.
    pub sessions: &'a dyn Sessions,
    pub kek: &'a Kek,
    pub clock: &'a dyn Clock,
    pub config: &'a Config,
}

impl<'a> Services<'a> {
    pub fn of(app: &'a Arc<App>) -> Services<'a> {
        Services {
            accounts: &*app.durable,
            outbox: &*app.durable,
            audit: &*app.durable,
            ephemeral: &*app.ephemeral,
            passwords: &app.passwords,
            sessions: app,
            kek: app.keys.kek(),
            clock: &*app.clock,
            config: &app.config,
        }
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Every SMS goes through the caps (`notify::sms`).
    pub fn sms(&self) -> SmsSender<'_> {
        SmsSender {
            outbox: self.outbox,
            counters: self.ephemeral,
            kek: self.kek,
            clock: self.clock,
            config: &self.config.sms,
        }
    }
}
