using System.Management.Automation;
using Microsoft.Graph.Beta.PowerShell.Models;
using Microsoft.Graph.Beta.PowerShell.Runtime;

namespace Microsoft.Graph.Beta.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Signs a user out everywhere with Graph's revokeSignInSessions action: every refresh token and session cookie stops working.</para>
    /// </summary>
    [Cmdlet(
        VerbsSecurity.Revoke,
        "MgBetaUserSignInSession",
        DefaultParameterSetName = RevokeParameterSet,
        SupportsShouldProcess = true,
        ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(bool))]
    public sealed class RevokeMgBetaUserSignInSession : RevocationCmdlet
    {
        private const string RevokeParameterSet = "Revoke";
        private const string RevokeViaIdentityParameterSet = "RevokeViaIdentity";

        /// <summary>The user's object id or user principal name.</summary>
        [Parameter(Mandatory = true, ParameterSetName = RevokeParameterSet)]
        public string UserId { get; set; } = string.Empty;

        /// <summary>The user as an identity object: a hashtable @{UserId=...}, a user object, a CSV row or a string.</summary>
        [Parameter(Mandatory = true, ParameterSetName = RevokeViaIdentityParameterSet, ValueFromPipeline = true)]
        public IUsersActionsIdentity InputObject { get; set; } = new UsersActionsIdentity();

        private protected override RevocationAction Action => RevocationAction.RevokeSignInSessions;

        private protected override string BoundUserId => UserId;

        private protected override IUsersActionsIdentity? BoundInputObject => InputObject;

        private protected override bool ViaIdentity => ParameterSetName == RevokeViaIdentityParameterSet;
    }
}
