//! Parsing and validating a `$batch` request body. Anything wrong with the envelope as a whole
//! (not JSON, no `requests`, more than 20, a duplicate id, a `dependsOn` naming no request, a
//! dependency cycle) fails the whole batch with 400, as Graph does; problems of one item (a write
//! without body or `Content-Type`, a bad url) are left for that item's own answer.

use std::collections::HashSet;

use serde_json::Value;

/// Graph's limit of requests per batch.
pub(crate) const MAX_REQUESTS: usize = 20;

/// One request of the batch, as sent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub id: String,
    pub method: String,
    pub url: String,
    /// Header names as sent (matched case-insensitively).
    pub headers: Vec<(String, String)>,
    /// `None` when absent or `null`.
    pub body: Option<Value>,
    pub depends_on: Vec<String>,
}

impl Item {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// POST, PUT and PATCH carry a payload: Graph insists on `body` and `Content-Type` for them.
    pub fn is_write(&self) -> bool {
        ["POST", "PUT", "PATCH"]
            .iter()
            .any(|m| self.method.eq_ignore_ascii_case(m))
    }
}

/// Parses the body; the error is the message of the whole-batch 400.
pub(crate) fn parse(body: &[u8]) -> Result<Vec<Item>, String> {
    let invalid = || "Invalid batch payload format.".to_owned();
    let root: Value = serde_json::from_slice(body).map_err(|_| invalid())?;
    let requests = root
        .get("requests")
        .and_then(Value::as_array)
        .ok_or_else(invalid)?;
    if requests.is_empty() {
        return Err(invalid());
    }
    if requests.len() > MAX_REQUESTS {
        return Err(format!(
            "Number of requests in a batch exceeds the limit of {MAX_REQUESTS}."
        ));
    }
    let items = requests
        .iter()
        .map(parse_item)
        .collect::<Option<Vec<Item>>>()
        .ok_or_else(invalid)?;
    let mut seen = HashSet::new();
    for item in &items {
        // Graph compares ids case-insensitively.
        if !seen.insert(item.id.to_lowercase()) {
            return Err(format!(
                "Batch request contains a duplicate request id '{}'.",
                item.id
            ));
        }
    }
    for item in &items {
        if let Some(missing) = item
            .depends_on
            .iter()
            .find(|d| !seen.contains(&d.to_lowercase()))
        {
            return Err(format!(
                "Request '{}' depends on request '{missing}', which is not in the batch.",
                item.id
            ));
        }
    }
    Ok(items)
}

fn parse_item(v: &Value) -> Option<Item> {
    let text = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    let id = text("id").filter(|s| !s.is_empty())?;
    let method = text("method").filter(|s| !s.is_empty())?;
    let url = text("url")?;
    let headers = match v.get("headers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| {
                let value = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                (k.clone(), value)
            })
            .collect(),
        Some(_) => return None,
    };
    let body = v.get("body").filter(|b| !b.is_null()).cloned();
    let depends_on = match v.get("dependsOn") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|d| d.as_str().map(str::to_owned))
            .collect::<Option<Vec<String>>>()?,
        Some(_) => return None,
    };
    Some(Item {
        id,
        method,
        url,
        headers,
        body,
        depends_on,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(id: &str) -> Value {
        json!({"id": id, "method": "POST", "url": "/users/a/invalidateAllRefreshTokens",
               "headers": {"Content-Type": "application/json"}, "body": {}})
    }

    fn parse_value(v: Value) -> Result<Vec<Item>, String> {
        parse(v.to_string().as_bytes())
    }

    #[test]
    fn accepts_a_well_formed_batch() {
        let mut second = item("2");
        second["dependsOn"] = json!(["1"]);
        second["body"] = Value::Null;
        let items = parse_value(json!({"requests": [item("1"), second]})).unwrap_or_default();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].header("content-type"), Some("application/json"));
        assert!(items[0].body.is_some() && items[1].body.is_none());
        assert_eq!(items[1].depends_on, ["1"]);
        assert!(items[0].is_write());
    }

    #[test]
    fn refuses_whole_batch_problems() {
        assert!(parse(b"not json").is_err());
        assert!(parse_value(json!({"requests": []})).is_err());
        assert!(parse_value(json!({"reqs": [item("1")]})).is_err());
        let many: Vec<Value> = (0..21).map(|i| item(&i.to_string())).collect();
        assert!(parse_value(json!({ "requests": many })).is_err_and(|e| e.contains("limit of 20")));
        assert!(
            parse_value(json!({"requests": [item("1"), item("1")]}))
                .is_err_and(|e| e.contains("duplicate"))
        );
        let mut dangling = item("2");
        dangling["dependsOn"] = json!(["9"]);
        assert!(parse_value(json!({"requests": [item("1"), dangling]})).is_err());
        assert!(
            parse_value(json!({"requests": [{"id": 1, "method": "POST", "url": "/x"}]})).is_err()
        );
    }
}
