//! The revocation call itself.

use graph_core::UserId;
use graph_core::runtime::block_on_cancellable;

use crate::boundary::guard;
use crate::buffer::{GraphBuffer, input_str};
use crate::cancel_exports::{GraphCancel, token_of};
use crate::session_exports::{GraphSession, session_ref};
use crate::status::GraphStatus;

/// Invalidates all refresh tokens of one user and writes the `RevocationOutcome` as JSON.
/// Blocks the calling thread until Graph answers or `cancel` is signalled (`Cancelled`).
///
/// # Safety
/// `session` must be null or a live handle; `user_id` null with length 0 or `user_id_len`
/// readable bytes; `cancel` null or a live handle; `out` null or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_invalidate_all_refresh_tokens(
    session: *const GraphSession,
    user_id: *const u8,
    user_id_len: usize,
    cancel: *const GraphCancel,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            let session = session_ref(session)?;
            let user = UserId::parse(input_str(user_id, user_id_len, "the user id")?)?;
            let cancel = token_of(cancel);
            block_on_cancellable(&cancel, session.invalidate_all_refresh_tokens(&user))
        })
    }
}
