//! What to run: a command (by name, or a script file by path) or a script text, with named
//! parameters, positional arguments and pipeline input given as JSON values. Strings, numbers,
//! booleans, arrays (`object[]`) and objects (case-insensitive hashtables) cross the boundary;
//! PowerShell's parameter binding converts them as it does for a script. A `true` binds a switch.
//!
//! Not handled yet: passing live .NET objects (a `SecureString`, a `PSCredential`): build them
//! in a script from plain values passed as parameters.

use std::time::Duration;

use serde_json::{Map, Value};

/// One invocation to run in a [`Runspace`](crate::Runspace).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    body: Map<String, Value>,
    parameters: Map<String, Value>,
    timeout: Option<Duration>,
}

impl Request {
    /// A command by name (`Invoke-MgBetaInvalidateAllUserRefreshToken`) or a script file by path.
    pub fn command(name: impl Into<String>) -> Self {
        Self::new("command", name.into())
    }

    /// A script text, run in the runspace's global scope (its variables and functions stay).
    pub fn script(text: impl Into<String>) -> Self {
        Self::new("script", text.into())
    }

    fn new(kind: &str, text: String) -> Self {
        let mut body = Map::new();
        body.insert(kind.to_owned(), Value::String(text));
        Request {
            body,
            parameters: Map::new(),
            timeout: None,
        }
    }

    /// A named parameter (`-Name value`); for a script, its `param()` block binds it.
    pub fn parameter(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.parameters.insert(name.into(), value.into());
        self
    }

    /// A switch parameter, set (`-WhatIf`).
    pub fn switch(self, name: impl Into<String>) -> Self {
        self.parameter(name, true)
    }

    /// A positional argument.
    pub fn argument(mut self, value: impl Into<Value>) -> Self {
        let arguments = self
            .body
            .entry("arguments")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = arguments {
            items.push(value.into());
        }
        self
    }

    /// Pipeline input (`$a, $b | Command`).
    pub fn input(mut self, values: impl IntoIterator<Item = impl Into<Value>>) -> Self {
        self.body.insert(
            "input".into(),
            Value::Array(values.into_iter().map(Into::into).collect()),
        );
        self
    }

    /// Runs a script in a scope of its own, so its variables do not stay in the runspace.
    pub fn local_scope(mut self) -> Self {
        self.body.insert("localScope".into(), Value::Bool(true));
        self
    }

    /// How deep output objects are converted to JSON (default 4, like a deep `ConvertTo-Json`).
    pub fn json_depth(mut self, depth: u32) -> Self {
        self.body.insert("jsonDepth".into(), Value::from(depth));
        self
    }

    /// Stops the invocation when it runs longer than this (the result says `timed_out`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The timeout, if one was set.
    pub fn timeout_value(&self) -> Option<Duration> {
        self.timeout
    }

    /// The JSON the bridge reads (`InvokeRequest.cs`).
    pub fn to_json(&self) -> Vec<u8> {
        let mut body = self.body.clone();
        if !self.parameters.is_empty() {
            body.insert("parameters".into(), Value::Object(self.parameters.clone()));
        }
        serde_json::to_vec(&Value::Object(body)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_keep_their_order_and_arguments_accumulate() {
        let request = Request::command("Get-Thing")
            .parameter("Zeta", 1)
            .parameter("Alpha", "a")
            .switch("WhatIf")
            .argument("x")
            .argument(2);
        let json: Value = serde_json::from_slice(&request.to_json()).unwrap();
        assert_eq!(json["command"], "Get-Thing");
        let names: Vec<&String> = json["parameters"].as_object().unwrap().keys().collect();
        assert_eq!(names, ["Zeta", "Alpha", "WhatIf"]);
        assert_eq!(json["arguments"], serde_json::json!(["x", 2]));
    }
}
