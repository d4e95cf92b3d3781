//! The `User-Agent` this module sends: its name and version first, so Graph-side logs and
//! proxies can tell it apart from the official SDK, then the platform and the host.

/// `Microsoft.Graph.Beta.Users.Actions/<version> (<os>-<arch>) <host>`.
pub(crate) fn user_agent(host: Option<&str>) -> String {
    let product = format!(
        "Microsoft.Graph.Beta.Users.Actions/{} ({}-{})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    match host.map(str::trim).filter(|host| !host.is_empty()) {
        // Header values must be visible ASCII; a host string is ours, but be strict anyway.
        Some(host) if host.chars().all(|c| c.is_ascii_graphic() || c == ' ') => {
            format!("{product} {host}")
        }
        _ => product,
    }
}

#[cfg(test)]
mod tests {
    use super::user_agent;

    #[test]
    fn names_module_version_and_host() {
        let agent = user_agent(Some("PowerShell/7.6.9"));
        assert!(agent.starts_with(&format!(
            "Microsoft.Graph.Beta.Users.Actions/{} (",
            env!("CARGO_PKG_VERSION")
        )));
        assert!(agent.ends_with(") PowerShell/7.6.9"), "{agent}");
    }

    #[test]
    fn unusable_host_is_left_out() {
        assert!(!user_agent(Some("bad\r\nheader")).contains("bad"));
        assert!(user_agent(None).ends_with(')'));
    }
}
