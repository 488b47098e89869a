//! `educonnect admin`: what the administration API's operators need from the command line.

use clap::Subcommand;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Print a new bearer token for the administration API, and the digest to add to
    /// `admin.token_digests` (only the digest is kept in the configuration).
    Token,
}

pub fn run(command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Token => {
            let token = educonnect::secrets::admin_token();
            println!("token (give it to the API's caller, it is not kept): {token}");
            println!(
                "digest (add it to admin.token_digests): {}",
                educonnect::secrets::digest(token.as_bytes())
            );
        }
    }
    Ok(())
}
