//! Paths as operators write them in a configuration.

use std::path::{Path, PathBuf};

/// `p` with a leading `~` replaced by `$HOME` (unchanged when `HOME` is unset or `p` does not
/// start with `~`).
pub fn expand_home(p: &Path) -> PathBuf {
    match p.strip_prefix("~") {
        Ok(rest) => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(rest))
            .unwrap_or_else(|| p.to_path_buf()),
        Err(_) => p.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_leading_tilde_is_the_home_directory() {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let got = expand_home(Path::new("~/.foundry/keystores/k"));
        match home {
            Some(h) => assert_eq!(got, h.join(".foundry/keystores/k")),
            None => assert_eq!(got, Path::new("~/.foundry/keystores/k")),
        }
        assert_eq!(expand_home(Path::new("/etc/k")), Path::new("/etc/k"));
        assert_eq!(expand_home(Path::new("a/~/k")), Path::new("a/~/k"));
        assert_eq!(expand_home(Path::new("~user/k")), Path::new("~user/k"));
    }
}
