//! Establishment operations: everything the administration API offers over establishments
//! (and the back-office will), as domain functions that take an `Actor` and check its `Scope`
//! themselves — a Siècle upload, the establishment and its name, its notices and import history
//! (`records.rs`), its linking candidates merged or declined (`candidates.rs`), attachment codes
//! for its pupils (`codes.rs`), the delivery status of outgoing messages (`messages.rs`), the
//! journal of its audit trail (`audit.rs`); for the back-office, its dashboard
//! (`dashboard.rs`), its accounts listed and searched (`account_list.rs`), one account's page
//! (`account_file.rs`) and what is done to it (`account_actions.rs`, after the checks of
//! `belonging.rs`, recorded by `audited.rs`), the pupil troubleshooting search
//! (`troubleshooting.rs`). Narrow dependencies: the store traits each operation uses,
//! the upload slot, the time; never `App`, never `http`. Errors are typed (`OperationError`);
//! the caller renders them.

mod account_actions;
mod account_file;
mod account_list;
pub mod account_model;
mod actor;
pub mod audit;
mod audited;
mod belonging;
mod candidates;
mod codes;
mod dashboard;
mod error;
mod establishment_actions;
mod identifiers;
mod implications;
mod messages;
pub mod model;
mod notify;
mod records;
mod troubleshooting;
mod upload;

pub use account_actions::{
    correct_contact, notifiable, parse_email, parse_phone, pupil_attachment_code, switch, unblock,
    Desk, Switch,
};
pub use account_file::{account_file, AccountFile, Files, Relative};
pub use account_list::{
    accounts, AccountPage, AccountQuery, AccountRow, ProfileFilter, Sort, StateFilter, PAGE_SIZE,
};
pub use actor::{Actor, Grant, Refusal, Right, Scope, EVERY_RIGHT};
pub use audited::account_subject;
pub use candidates::{candidates, decline, merge, Resolver};
pub use codes::{attachment_code, IssuedCode};
pub use dashboard::{dashboard, Candidates, ClassActivation, Dashboard, StateCounts};
pub use error::OperationError;
pub use establishment_actions::{identifiers_recorded, read_notice, resolve_candidate, Decision};
pub use identifiers::{identifiers_file, IdentifiersFile};
pub use implications::BulkGuardians;
pub use messages::{account_messages, message_status};
pub use model::{ActivePasswords, Request, Selection};
pub use notify::{
    address, notify, preview, Carrier, Compose, Notification, Notified, Notifier, Preview, Progress,
};
pub use records::{establishment, imports, mark_notice_read, name, notices, HISTORY};
pub use troubleshooting::{find_pupils, Found, PupilFound, FOUND};
pub use upload::{import_upload, UploadedFiles};
