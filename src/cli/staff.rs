//! `educonnect staff`: the back-office's staff as the national operators manage them from the
//! command line — created with a first role (the initial password printed once), given more
//! roles, listed, disabled and enabled, their second factor reset. Each is a domain function
//! of `staff::directory`, called as the actor `cli` (national), which also writes the audit
//! trail. Delegates are designated by their head in the back-office, not here.

use anyhow::bail;
use clap::{Args, Subcommand};

use educonnect::accounts::password::PasswordHasher;
use educonnect::clock::{Clock, SystemClock};
use educonnect::config::Config;
use educonnect::establishments::{Actor, Scope};
use educonnect::siecle::ids::{academies, academy_named};
use educonnect::siecle::Uai;
use educonnect::staff::directory::{self, Directory, NewStaff, RoleRequest};
use educonnect::staff::{Role, RoleKind, RoleScope, Staff, StaffState};

/// The most staff `list` prints.
const LIST_LIMIT: i64 = 10_000;

#[derive(Subcommand)]
pub enum StaffCommand {
    /// Create a staff member with a first role; prints the initial password once.
    Add {
        #[arg(long)]
        login: String,
        #[arg(long)]
        given_name: String,
        #[arg(long)]
        family_name: String,
        #[arg(long)]
        email: String,
        #[command(flatten)]
        role: RoleArgs,
    },
    /// Give an existing staff member another role.
    Grant {
        #[arg(long)]
        login: String,
        #[command(flatten)]
        role: RoleArgs,
    },
    /// Every staff member: state, second factor, roles in force.
    List,
    /// A staff member can no longer sign in (their roles are kept).
    Disable {
        #[arg(long)]
        login: String,
    },
    /// A disabled staff member can sign in again.
    Enable {
        #[arg(long)]
        login: String,
    },
    /// Forget a staff member's second factor (a lost phone): the next sign-in enrols a new one.
    ResetTotp {
        #[arg(long)]
        login: String,
    },
}

/// A role and where it applies.
#[derive(Args)]
pub struct RoleArgs {
    /// head, deputy, assistance or operator.
    #[arg(long)]
    role: String,
    /// The establishment of a head or a deputy.
    #[arg(long, conflicts_with = "academy")]
    uai: Option<String>,
    /// The académie of an assistance agent, as written in `siecle::ids` (e.g. Lyon, Aix-Marseille).
    #[arg(long)]
    academy: Option<String>,
}

impl RoleArgs {
    /// The role asked for, checked before anything is opened or written.
    fn request(&self) -> anyhow::Result<RoleRequest> {
        let Some(kind) = RoleKind::parse(&self.role) else {
            bail!(
                "rôle inconnu « {} » : head, deputy, assistance ou operator",
                self.role
            );
        };
        let scope = match (kind, &self.uai, &self.academy) {
            (RoleKind::Delegate, ..) => {
                bail!("une délégation est accordée par le chef d'établissement, dans la gestion")
            }
            (RoleKind::Head | RoleKind::Deputy, Some(uai), None) => RoleScope::Establishment(
                Uai::parse(uai).map_err(|e| anyhow::anyhow!("UAI {uai} : {e}"))?,
            ),
            (RoleKind::Head | RoleKind::Deputy, ..) => {
                bail!(
                    "le rôle {} porte sur un établissement : --uai",
                    kind.as_str()
                )
            }
            (RoleKind::Assistance, None, Some(academy)) => match academy_named(academy) {
                Some(academy) => RoleScope::Academy(academy),
                None => bail!(
                    "académie inconnue « {academy} » ; les académies : {}",
                    academies().collect::<Vec<_>>().join(", ")
                ),
            },
            (RoleKind::Assistance, ..) => {
                bail!("le rôle assistance porte sur une académie : --academy")
            }
            (RoleKind::Operator, None, None) => RoleScope::National,
            (RoleKind::Operator, ..) => {
                bail!("le rôle operator est national : ni --uai ni --academy")
            }
        };
        Ok(RoleRequest {
            kind,
            scope,
            pupils: false,
            guardians: false,
            ends_at: None,
        })
    }
}

pub async fn run(command: StaffCommand, config: Config) -> anyhow::Result<()> {
    // A role refused leaves the database untouched, not even migrated.
    let role = match &command {
        StaffCommand::Add { role, .. } | StaffCommand::Grant { role, .. } => Some(role.request()?),
        _ => None,
    };
    let passwords = PasswordHasher::new(&config.password)?;
    let store = super::migrated_store(&config, 2).await?;
    let directory = Directory {
        staff: &store,
        audit: &store,
        passwords: &passwords,
    };
    let actor = Actor::new("cli", Scope::National);
    let now = SystemClock.now_ms();
    let failed = |e: educonnect::establishments::OperationError| anyhow::anyhow!("{e}");
    match command {
        StaffCommand::Add {
            login,
            given_name,
            family_name,
            email,
            ..
        } => {
            let new = NewStaff {
                login,
                given_name,
                family_name,
                email,
            };
            let role = role.expect("parsed above");
            let (staff, password) = directory::add_staff(&actor, &directory, &new, &role, now)
                .await
                .map_err(failed)?;
            println!(
                "personnel créé : {} ({}), {}",
                staff.login,
                staff.display_name(),
                describe_request(&role)
            );
            println!("identifiant :          {}", staff.login);
            println!("mot de passe initial : {}", password.expose());
            println!(
                "Ce mot de passe ne sera plus affiché : remettez-le à la personne. Le second \
                 facteur (clé OTP, une application d'authentification) s'enrôle à la première \
                 connexion, sur {}.",
                config.endpoint("/gestion")
            );
        }
        StaffCommand::Grant { login, .. } => {
            let role = directory::grant_role(
                &actor,
                &directory,
                &login,
                &role.expect("parsed above"),
                now,
            )
            .await
            .map_err(failed)?;
            println!("rôle attribué à {} : {}", login.trim(), describe(&role));
        }
        StaffCommand::List => {
            let listed = directory::list(&actor, &directory, LIST_LIMIT, now)
                .await
                .map_err(failed)?;
            print_table(&listed);
        }
        StaffCommand::Disable { login } => {
            let staff = directory::set_state(&actor, &directory, &login, StaffState::Disabled, now)
                .await
                .map_err(failed)?;
            println!(
                "{} est désactivé : plus de connexion à la gestion (ses rôles sont gardés).",
                staff.login
            );
        }
        StaffCommand::Enable { login } => {
            let staff = directory::set_state(&actor, &directory, &login, StaffState::Active, now)
                .await
                .map_err(failed)?;
            println!("{} peut de nouveau se connecter à la gestion.", staff.login);
        }
        StaffCommand::ResetTotp { login } => {
            let staff = directory::reset_second_factor(&actor, &directory, &login, now)
                .await
                .map_err(failed)?;
            println!(
                "second facteur de {} réinitialisé : sa prochaine connexion enrôlera une \
                 nouvelle clé OTP.",
                staff.login
            );
        }
    }
    Ok(())
}

fn scope_words(scope: &RoleScope) -> String {
    match scope {
        RoleScope::Establishment(uai) => uai.as_str().to_owned(),
        RoleScope::Academy(academy) => format!("académie {academy}"),
        RoleScope::National => "national".to_owned(),
    }
}

fn describe_request(role: &RoleRequest) -> String {
    format!("{} ({})", role.kind.label(), scope_words(&role.scope))
}

fn describe(role: &Role) -> String {
    let mut words = format!("{} ({})", role.kind.label(), scope_words(&role.scope));
    if role.kind == RoleKind::Delegate {
        let rights: Vec<&str> = [(role.pupils, "élèves"), (role.guardians, "représentants")]
            .into_iter()
            .filter_map(|(held, name)| held.then_some(name))
            .collect();
        words.push_str(&format!(" : {}", rights.join(", ")));
    }
    words
}

fn print_table(listed: &[(Staff, Vec<Role>)]) {
    if listed.is_empty() {
        println!("aucun personnel : educonnect staff add …");
        return;
    }
    println!(
        "{:<20} {:<28} {:<32} {:<10} {:<10} rôles",
        "identifiant", "nom", "courriel", "état", "clé OTP"
    );
    for (staff, roles) in listed {
        let state = match staff.state {
            StaffState::Active => "actif",
            StaffState::Disabled => "désactivé",
        };
        let second_factor = if staff.totp_enrolled_at.is_some() {
            "enrôlée"
        } else {
            "à enrôler"
        };
        let roles: Vec<String> = roles.iter().map(describe).collect();
        println!(
            "{:<20} {:<28} {:<32} {:<10} {:<10} {}",
            staff.login,
            staff.display_name(),
            staff.email,
            state,
            second_factor,
            if roles.is_empty() {
                "aucun".to_owned()
            } else {
                roles.join(" ; ")
            }
        );
    }
}
