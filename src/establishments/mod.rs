//! Establishment operations: everything the administration API offers over establishments
//! (and the back-office will), as domain functions that take an `Actor` and check its `Scope`
//! themselves — a Siècle upload, the establishment and its name, its notices and import history
//! (`records.rs`), its linking candidates merged or declined (`candidates.rs`), attachment codes
//! for its pupils (`codes.rs`), the delivery status of outgoing messages (`messages.rs`), the journal of its audit trail (`audit.rs`). Narrow dependencies: the store traits each operation uses,
//! the upload slot, the time; never `App`, never `http`. Errors are typed (`OperationError`);
//! the caller renders them.

mod actor;
pub mod audit;
mod candidates;
mod codes;
mod error;
mod identifiers;
mod implications;
mod messages;
pub mod model;
mod notify;
mod records;
mod upload;

pub use actor::{Actor, Grant, Refusal, Right, Scope, EVERY_RIGHT};
pub use candidates::{candidates, decline, merge, Resolver};
pub use codes::{attachment_code, IssuedCode};
pub use error::OperationError;
pub use identifiers::{identifiers_file, IdentifiersFile};
pub use implications::BulkGuardians;
pub use messages::{account_messages, message_status};
pub use model::{ActivePasswords, Request, Selection};
pub use notify::{
    address, notify, preview, Carrier, Compose, Notification, Notified, Notifier, Preview, Progress,
};
pub use records::{establishment, imports, mark_notice_read, name, notices, HISTORY};
pub use upload::{import_upload, UploadedFiles};
