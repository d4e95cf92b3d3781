//! `POST /{tenant}/oauth2/v2.0/token` (client credentials with a secret or a certificate
//! assertion, device code, refresh token) and `POST /{tenant}/oauth2/v2.0/devicecode`. Each grant
//! checks, in order: tenant, client id, app, client credential, scope; and answers either tokens
//! or Entra's error body (see `errors`).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::EntraState;
use super::assertion::{self, Expected};
use super::errors::AadError;
use super::refresh::{Grant, Policy};
use super::registry::{App, TenantRef};
use super::scopes::Scopes;
use crate::state::AppState;
use crate::token::TokenRequest;

pub(crate) const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What a token request is evaluated against.
pub(crate) struct Ctx<'a> {
    pub state: &'a AppState,
    /// The `{tenant}` path segment as sent.
    pub tenant_segment: &'a str,
    /// The `Host` the request came to, for the assertion's `aud`.
    pub host: &'a str,
    pub now: i64,
}

pub(crate) type Form = HashMap<String, String>;

pub(crate) fn parse_form(body: &[u8]) -> Form {
    let mut form = Form::new();
    for (k, v) in form_urlencoded::parse(body) {
        form.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    form
}

fn entra<'a>(ctx: &Ctx<'a>) -> &'a EntraState {
    &ctx.state.entra
}

fn required<'f>(form: &'f Form, name: &str) -> Result<&'f str, AadError> {
    form.get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AadError::missing(name))
}

/// The token endpoint. `Ok` is the body of a 200.
pub(crate) fn token(ctx: &Ctx<'_>, form: &Form) -> (String, Result<Value, AadError>) {
    let grant = form
        .get("grant_type")
        .cloned()
        .unwrap_or_else(|| "missing".to_owned());
    let result = match grant.as_str() {
        "missing" => Err(AadError::missing("grant_type")),
        "client_credentials" => client_credentials(ctx, form),
        DEVICE_CODE_GRANT => device_code(ctx, form),
        "refresh_token" => refresh_token(ctx, form),
        other => Err(AadError::bad(
            "unsupported_grant_type",
            70_003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    };
    (grant, result)
}

/// The tenant the path names (AADSTS90002 when unknown).
fn tenant(ctx: &Ctx<'_>) -> Result<TenantRef, AadError> {
    entra(ctx)
        .registry
        .lock()
        .resolve_tenant(ctx.tenant_segment)
        .ok_or_else(|| {
            AadError::bad(
                "invalid_request",
                90_002,
                format!(
                    "Tenant '{}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.",
                    ctx.tenant_segment
                ),
            )
        })
}

/// The app `client_id` names, registered in the tenant the path names.
fn app(ctx: &Ctx<'_>, client_id: &str, tenant: &TenantRef) -> Result<App, AadError> {
    let app = entra(ctx).registry.lock().app(client_id).cloned();
    let in_tenant = |a: &App| match tenant {
        TenantRef::Multi => true,
        TenantRef::Id(t) => a.reg.tenant().eq_ignore_ascii_case(t),
    };
    app.filter(in_tenant).ok_or_else(|| {
        let directory = match tenant {
            TenantRef::Id(t) => t.clone(),
            TenantRef::Multi => ctx.tenant_segment.to_owned(),
        };
        AadError::bad(
            "unauthorized_client",
            700_016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{directory}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        )
    })
}

/// Checks the client secret or assertion; `required` says whether one must be there (confidential
/// flows) or is only checked when present (public flows).
fn authenticate(ctx: &Ctx<'_>, app: &App, form: &Form, required: bool) -> Result<(), AadError> {
    if let Some(secret) = form.get("client_secret") {
        if app.reg.secret_expired {
            return Err(AadError::client(
                7_000_222,
                format!(
                    "The provided client secret keys for app '{}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
                    app.reg.app_id
                ),
            ));
        }
        if !app.reg.secrets.iter().any(|s| s == secret) {
            return Err(AadError::client(
                7_000_215,
                format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                    app.reg.app_id
                ),
            ));
        }
        return Ok(());
    }
    if let Some(kind) = form.get("client_assertion_type") {
        if kind != JWT_BEARER {
            return Err(AadError::bad(
                "invalid_request",
                50_027,
                format!("The client_assertion_type '{kind}' is not supported."),
            ));
        }
        let assertion = self::required(form, "client_assertion")?;
        let tenants = [ctx.tenant_segment.to_owned(), app.reg.tenant().to_owned()];
        let hosts = [
            format!("http://{}", ctx.host),
            format!("https://{}", ctx.host),
            "https://login.microsoftonline.com".to_owned(),
            "https://login.microsoftonline.us".to_owned(),
            "https://login.chinacloudapi.cn".to_owned(),
        ];
        let audiences: Vec<String> = hosts
            .iter()
            .flat_map(|h| {
                tenants.iter().flat_map(move |t| {
                    [
                        format!("{h}/{t}/oauth2/v2.0/token"),
                        format!("{h}/{t}/oauth2/token"),
                    ]
                })
            })
            .collect();
        let skew = entra(ctx).settings.lock().clock_skew_seconds;
        return assertion::verify(
            assertion,
            app,
            &Expected {
                client_id: &app.reg.app_id,
                audiences: &audiences,
                now: ctx.now,
                skew,
            },
        );
    }
    if required {
        return Err(AadError::client(
            7_000_218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    }
    Ok(())
}

fn lifetime(ctx: &Ctx<'_>) -> i64 {
    entra(ctx).settings.lock().access_token_lifetime_seconds
}

fn client_credentials(ctx: &Ctx<'_>, form: &Form) -> Result<Value, AadError> {
    let tenant = tenant(ctx)?;
    let client_id = required(form, "client_id")?;
    let app = app(ctx, client_id, &tenant)?;
    authenticate(ctx, &app, form, true)?;
    let scope = required(form, "scope")?;
    let scopes = Scopes::parse(scope)?;
    if !scopes.is_app_only() {
        return Err(AadError::bad(
            "invalid_scope",
            70_011,
            format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier."
            ),
        ));
    }
    let lifetime = lifetime(ctx);
    let minted = ctx.state.mint(&TokenRequest {
        roles: Some(app.reg.roles.clone()),
        app_id: Some(app.reg.app_id.clone()),
        tenant_id: Some(app.reg.tenant().to_owned()),
        expires_in_seconds: Some(lifetime),
        ..Default::default()
    });
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": minted.access_token,
    }))
}

/// `POST /{tenant}/oauth2/v2.0/devicecode`.
pub(crate) fn devicecode(ctx: &Ctx<'_>, form: &Form) -> Result<Value, AadError> {
    let tenant = tenant(ctx)?;
    let client_id = required(form, "client_id")?;
    let app = app(ctx, client_id, &tenant)?;
    let scope = required(form, "scope")?;
    Scopes::parse(scope)?;
    let script = entra(ctx).script.lock().clone();
    let issued =
        entra(ctx)
            .devices
            .lock()
            .issue(&app.reg.app_id, app.reg.tenant(), scope, ctx.now, &script);
    let uri = "https://microsoft.com/devicelogin";
    Ok(json!({
        "device_code": issued.device_code,
        "user_code": issued.user_code,
        "verification_uri": uri,
        "expires_in": script.expires_in,
        "interval": script.interval,
        "message": format!(
            "To sign in, use a web browser to open the page {uri} and enter the code {} to authenticate.",
            issued.user_code
        ),
    }))
}

fn device_code(ctx: &Ctx<'_>, form: &Form) -> Result<Value, AadError> {
    let tenant = tenant(ctx)?;
    let client_id = required(form, "client_id")?;
    let app = app(ctx, client_id, &tenant)?;
    authenticate(ctx, &app, form, false)?;
    let code = form
        .get("device_code")
        .or_else(|| form.get("code"))
        .filter(|c| !c.is_empty())
        .ok_or_else(|| AadError::missing("device_code"))?;
    let script = entra(ctx).script.lock().clone();
    let poll = entra(ctx)
        .devices
        .lock()
        .poll(code, client_id, ctx.now, &script);
    match poll {
        super::device::Poll::Refused(e) => Err(e),
        super::device::Poll::Approved { pending, upn } => {
            let scopes = Scopes::parse(&pending.scope)?;
            Ok(delegated(
                ctx,
                &app,
                Grant {
                    app_id: pending.app_id,
                    tenant_id: pending.tenant_id,
                    upn,
                    scope: pending.scope,
                },
                &scopes,
                scopes.offline(),
            ))
        }
    }
}

fn refresh_token(ctx: &Ctx<'_>, form: &Form) -> Result<Value, AadError> {
    let tenant = tenant(ctx)?;
    let client_id = required(form, "client_id")?;
    let token = required(form, "refresh_token")?;
    let app = app(ctx, client_id, &tenant)?;
    authenticate(ctx, &app, form, false)?;
    let policy = {
        let s = entra(ctx).settings.lock();
        Policy {
            lifetime: s.refresh_token_lifetime_seconds,
            grace: s.refresh_token_reuse_grace_seconds,
        }
    };
    let grant = entra(ctx)
        .refresh
        .lock()
        .redeem(token, client_id, ctx.now, policy)?;
    let scopes = match form.get("scope").filter(|s| !s.trim().is_empty()) {
        Some(s) => Scopes::parse(s)?,
        None => Scopes::parse(&grant.scope)?,
    };
    // Redeeming a refresh token always hands out its replacement.
    Ok(delegated(ctx, &app, grant, &scopes, true))
}

/// Tokens for a signed-in user: a delegated access token, and a refresh token when asked.
fn delegated(ctx: &Ctx<'_>, app: &App, grant: Grant, scopes: &Scopes, offline: bool) -> Value {
    let lifetime = lifetime(ctx);
    let scp = scopes.scp(&app.reg.delegated_scopes);
    let minted = ctx.state.mint(&TokenRequest {
        scp: Some(scp.clone()),
        upn: Some(grant.upn.clone()),
        app_id: Some(grant.app_id.clone()),
        tenant_id: Some(grant.tenant_id.clone()),
        expires_in_seconds: Some(lifetime),
        ..Default::default()
    });
    let mut body = json!({
        "token_type": "Bearer",
        "scope": scopes.answer_scope(&scp),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": minted.access_token,
    });
    let Some(obj) = body.as_object_mut() else {
        return body;
    };
    if offline {
        let rt = entra(ctx).refresh.lock().issue(grant.clone(), ctx.now);
        obj.insert("refresh_token".to_owned(), Value::String(rt));
    }
    if scopes.openid() {
        // The id token is for the app itself: its audience is the client id.
        let id_token = ctx.state.mint(&TokenRequest {
            scp: Some(String::new()),
            upn: Some(grant.upn),
            app_id: Some(grant.app_id.clone()),
            tenant_id: Some(grant.tenant_id),
            audience: Some(grant.app_id),
            expires_in_seconds: Some(lifetime),
            ..Default::default()
        });
        obj.insert("id_token".to_owned(), Value::String(id_token.access_token));
    }
    body
}
