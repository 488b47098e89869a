//! The page a registration's state shows, and the view a handler renders.

use super::steps::children;
use super::*;

/// A child whose birth date is asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildDate {
    pub given_name: String,
}

/// The page to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Page {
    Code {
        masked: String,
    },
    Choose {
        names: Vec<(String, String)>,
    },
    Dates {
        children: Vec<ChildDate>,
    },
    Password {
        login: String,
    },
    Done {
        login: String,
        email: EmailStage,
        /// A FranceConnect identity is tied to the account now: the login goes on.
        franceconnect: bool,
    },
    /// The FranceConnect identity's names disagree with the record: nothing was changed.
    NamesDisagree,
    /// The account is already active: its identifier, login and recovery pointed to.
    AlreadyActive {
        login: String,
    },
    /// No account to register for this number (unknown, disabled, or no child linked).
    NotRegistered,
    /// Too many wrong answers: the registration is over.
    Ended,
}

/// The e-mail offer on the done page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmailStage {
    Offer,
    Code { address: String },
    Confirmed { address: String },
}

/// What a step answers.
pub struct View {
    pub flow_id: String,
    pub csrf: String,
    /// The live login transaction to go back to.
    pub tx: Option<String>,
    pub page: Page,
    pub error: Option<String>,
    pub info: Option<String>,
    pub throttled: bool,
    /// Started from a FranceConnect tie: its flow and CSRF token (the done page goes on there).
    pub tie: Option<(String, String)>,
}

/// The page a flow's state shows.
pub(super) async fn page(app: &App, flow: &Flow<Registration>) -> anyhow::Result<Page> {
    let state = &flow.state;
    if state.wrong_dates >= DATE_TRIES {
        return Ok(Page::Ended);
    }
    let account = match &state.account_id {
        Some(id) => app.durable.account(id).await?,
        None => None,
    };
    Ok(match (&state.stage, account) {
        (Stage::NamesDisagree, _) => Page::NamesDisagree,
        (Stage::Code, _) => Page::Code {
            masked: Mobile::parse(&state.mobile)
                .map(|m| m.masked())
                .unwrap_or_default(),
        },
        (Stage::Choose, _) => Page::Choose {
            names: candidates(app, &state.mobile)
                .await?
                .into_iter()
                .map(|a| (a.id, format!("{} {}", a.given_name, a.family_name)))
                .collect(),
        },
        (_, None) => Page::NotRegistered,
        (_, Some(a)) if a.state == AccountState::Disabled => Page::NotRegistered,
        (Stage::Done, Some(a)) => Page::Done {
            franceconnect: match &state.federated {
                Some(f) => {
                    app.durable
                        .account_of_upstream(&f.tying.issuer, &f.tying.subject)
                        .await?
                        .as_deref()
                        == Some(a.id.as_str())
                }
                None => false,
            },
            login: a.login,
            email: match (&state.pending_email, &state.confirmed_email) {
                (_, Some(address)) => EmailStage::Confirmed {
                    address: address.clone(),
                },
                (Some(address), None) => EmailStage::Code {
                    address: address.clone(),
                },
                (None, None) => EmailStage::Offer,
            },
        },
        // Not registered again: an active account is pointed to the login and recovery.
        (_, Some(a)) if a.state == AccountState::Active => Page::AlreadyActive { login: a.login },
        (Stage::Dates, Some(a)) => {
            let children = children(app, &a.id).await?;
            if children.is_empty() {
                // Nothing to prove who the guardian is: the establishment registers them.
                Page::NotRegistered
            } else {
                Page::Dates {
                    children: children
                        .into_iter()
                        .map(|(_, given_name)| ChildDate { given_name })
                        .collect(),
                }
            }
        }
        (Stage::Password, Some(a)) => Page::Password { login: a.login },
    })
}

pub(super) async fn view(
    app: &App,
    flow: &Flow<Registration>,
    page: Page,
    error: Option<String>,
    info: Option<String>,
) -> anyhow::Result<View> {
    let tx = match &flow.tx {
        Some(id) if transaction::is_live(&*app.ephemeral, id).await? => Some(id.clone()),
        _ => None,
    };
    Ok(View {
        flow_id: flow.id.clone(),
        csrf: flow.csrf.clone(),
        tx,
        page,
        error,
        info,
        throttled: false,
        tie: flow
            .state
            .federated
            .as_ref()
            .map(|f| (f.tie_flow.clone(), f.tie_csrf.clone())),
    })
}
