//! Where the password of an encrypted keyfile comes from. It is asked for only when a secret is
//! actually needed (reading an address from `coldkeypub.txt` needs none, as in btcli), and never
//! logged, printed or put into an error.

use std::fmt;
use std::io::IsTerminal;
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The environment variable a password is taken from.
pub const PASSWORD_ENV: &str = "TAO20_WALLET_PASSWORD";

/// A source of keyfile passwords.
#[derive(Clone)]
pub struct PasswordSource {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    EnvOrPrompt,
    Env,
    Fixed(Zeroizing<String>),
    Never,
}

impl PasswordSource {
    /// [`PASSWORD_ENV`] when set; else a prompt without echo when standard input is a terminal;
    /// else [`Error::NoPassword`]. For interactive commands.
    pub fn env_or_prompt() -> Self {
        Self {
            kind: Kind::EnvOrPrompt,
        }
    }

    /// [`PASSWORD_ENV`] only; never prompts. For unattended processes such as the keeper.
    pub fn env_only() -> Self {
        Self { kind: Kind::Env }
    }

    /// A password the caller already has (its own secret store, tests).
    pub fn fixed(password: impl Into<String>) -> Self {
        Self {
            kind: Kind::Fixed(Zeroizing::new(password.into())),
        }
    }

    /// No password at all: an encrypted keyfile is [`Error::NoPassword`].
    pub fn never() -> Self {
        Self { kind: Kind::Never }
    }

    /// The password for the encrypted keyfile `path` (named in the prompt and in errors).
    pub fn password_for(&self, path: &Path) -> Result<Zeroizing<String>> {
        let prompt_allowed = matches!(self.kind, Kind::EnvOrPrompt);
        match &self.kind {
            Kind::Fixed(password) => Ok(password.clone()),
            Kind::Never => Err(Error::NoPassword {
                path: path.to_owned(),
                prompt_allowed,
            }),
            Kind::Env | Kind::EnvOrPrompt => {
                if let Some(value) = std::env::var_os(PASSWORD_ENV) {
                    return value
                        .into_string()
                        .map(Zeroizing::new)
                        .map_err(|_| Error::PasswordNotUtf8);
                }
                // Only a terminal on standard input counts: a process with piped or closed
                // input (a service, a test, CI) must fail at once rather than wait on /dev/tty.
                if !prompt_allowed || !std::io::stdin().is_terminal() {
                    return Err(Error::NoPassword {
                        path: path.to_owned(),
                        prompt_allowed,
                    });
                }
                rpassword::prompt_password(format!(
                    "Enter the password to unlock {}: ",
                    path.display()
                ))
                .map(Zeroizing::new)
                .map_err(|source| Error::Prompt {
                    path: path.to_owned(),
                    source,
                })
            }
        }
    }
}

impl fmt::Debug for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            Kind::EnvOrPrompt => "PasswordSource::EnvOrPrompt",
            Kind::Env => "PasswordSource::Env",
            Kind::Fixed(_) => "PasswordSource::Fixed(..)",
            Kind::Never => "PasswordSource::Never",
        })
    }
}

impl Default for PasswordSource {
    fn default() -> Self {
        Self::env_or_prompt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_and_never_do_not_touch_the_environment_and_debug_hides_the_password() {
        let path = Path::new("/w/coldkey");
        let fixed = PasswordSource::fixed("hunter2");
        assert_eq!(fixed.password_for(path).unwrap().as_str(), "hunter2");
        assert!(!format!("{fixed:?}").contains("hunter2"));
        let err = PasswordSource::never().password_for(path).unwrap_err();
        assert!(matches!(
            err,
            Error::NoPassword {
                prompt_allowed: false,
                ..
            }
        ));
        let text = err.to_string();
        assert!(
            text.contains("/w/coldkey") && text.contains(PASSWORD_ENV),
            "{text}"
        );
        assert!(!text.contains("terminal"), "{text}");
    }
}
