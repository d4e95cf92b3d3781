//! The `scope` parameter: Graph permissions (`https://graph.microsoft.com/User.Read`, the bare
//! `User.Read`, or `.default`) and the OpenID Connect scopes. Another resource's scope is refused
//! (AADSTS70011): the mock only issues tokens for Graph.

use super::errors::AadError;
use crate::token::{GRAPH_APP_ID, GRAPH_AUDIENCE};

const OIDC: [&str; 4] = ["openid", "profile", "email", "offline_access"];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scopes {
    /// `.default` was asked for.
    pub default: bool,
    /// Named Graph permissions.
    pub names: Vec<String>,
    /// OpenID Connect scopes asked for (lower-case).
    pub oidc: Vec<String>,
}

impl Scopes {
    pub fn parse(scope: &str) -> Result<Scopes, AadError> {
        let mut out = Scopes::default();
        for token in scope.split_ascii_whitespace() {
            let lower = token.to_ascii_lowercase();
            if OIDC.contains(&lower.as_str()) {
                out.oidc.push(lower);
                continue;
            }
            let name = strip_resource(token).ok_or_else(|| invalid(token))?;
            if name == ".default" {
                out.default = true;
            } else if name.is_empty() || name.contains('/') {
                return Err(invalid(token));
            } else {
                out.names.push(name.to_owned());
            }
        }
        if !out.default && out.names.is_empty() && out.oidc.is_empty() {
            return Err(AadError::missing("scope"));
        }
        Ok(out)
    }

    /// Client credentials accept exactly Graph's `.default` and nothing else.
    pub fn is_app_only(&self) -> bool {
        self.default && self.names.is_empty() && self.oidc.is_empty()
    }

    pub fn offline(&self) -> bool {
        self.oidc.iter().any(|s| s == "offline_access")
    }

    pub fn openid(&self) -> bool {
        self.oidc.iter().any(|s| s == "openid")
    }

    /// The `scp` of a delegated token: the named permissions, `.default` expanded to what the app
    /// was configured with.
    pub fn scp(&self, default_scopes: &[String]) -> String {
        let mut all: Vec<String> = Vec::new();
        if self.default {
            if default_scopes.is_empty() {
                all.push("User.Read".to_owned());
            } else {
                all.extend(default_scopes.iter().cloned());
            }
        }
        for n in &self.names {
            if !all.iter().any(|a| a.eq_ignore_ascii_case(n)) {
                all.push(n.clone());
            }
        }
        all.join(" ")
    }

    /// The `scope` of the answer: Graph permissions in full form, then the OIDC scopes.
    pub fn answer_scope(&self, scp: &str) -> String {
        scp.split_ascii_whitespace()
            .map(|s| format!("{GRAPH_AUDIENCE}/{s}"))
            .chain(self.oidc.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn invalid(token: &str) -> AadError {
    AadError::bad(
        "invalid_scope",
        70_011,
        format!(
            "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {token} is not valid."
        ),
    )
}

/// The permission name of a Graph scope; `None` for another resource's scope.
fn strip_resource(token: &str) -> Option<&str> {
    for prefix in [GRAPH_AUDIENCE, GRAPH_APP_ID] {
        if token.len() > prefix.len() && token[..prefix.len()].eq_ignore_ascii_case(prefix) {
            // Entra tolerates a doubled slash (`https://graph.microsoft.com//.default`).
            let rest = &token[prefix.len()..];
            return rest.strip_prefix("//").or_else(|| rest.strip_prefix('/'));
        }
    }
    if token.contains("://") || token.starts_with("api:") {
        return None;
    }
    Some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_and_oidc_scopes() {
        let s = Scopes::parse("https://graph.microsoft.com/.default").unwrap_or_default();
        assert!(s.is_app_only());
        let s = Scopes::parse("00000003-0000-0000-c000-000000000000/.default").unwrap_or_default();
        assert!(s.is_app_only());
        let s = Scopes::parse(
            "https://graph.microsoft.com/User.RevokeSessions.All User.Read offline_access openid",
        )
        .unwrap_or_default();
        assert!(!s.is_app_only() && s.offline() && s.openid());
        assert_eq!(s.scp(&[]), "User.RevokeSessions.All User.Read");
        assert_eq!(
            s.answer_scope("User.Read"),
            "https://graph.microsoft.com/User.Read offline_access openid"
        );
        let d = Scopes::parse(".default").unwrap_or_default();
        assert_eq!(
            d.scp(&["Directory.ReadWrite.All".into()]),
            "Directory.ReadWrite.All"
        );
        assert_eq!(d.scp(&[]), "User.Read");
        for bad in [
            "https://management.azure.com/.default",
            "api://x/y",
            "https://graph.microsoft.com/",
        ] {
            assert_eq!(Scopes::parse(bad).map_err(|e| e.code), Err(70_011), "{bad}");
        }
        assert_eq!(Scopes::parse("  ").map_err(|e| e.code), Err(900_144));
    }
}
