using System.Management.Automation;
using Microsoft.Graph.Beta.PowerShell.Models;
using Microsoft.Graph.Beta.PowerShell.Runtime;

namespace Microsoft.Graph.Beta.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Signs a user out everywhere: invalidates every refresh token and browser session cookie.</para>
    /// </summary>
    [Cmdlet(
        VerbsLifecycle.Invoke,
        "MgBetaInvalidateAllUserRefreshToken",
        DefaultParameterSetName = InvalidateParameterSet,
        SupportsShouldProcess = true,
        ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(bool))]
    public sealed class InvokeMgBetaInvalidateAllUserRefreshToken : RevocationCmdlet
    {
        private const string InvalidateParameterSet = "Invalidate";
        private const string InvalidateViaIdentityParameterSet = "InvalidateViaIdentity";

        /// <summary>The user's object id or user principal name.</summary>
        [Parameter(Mandatory = true, ParameterSetName = InvalidateParameterSet)]
        public string UserId { get; set; } = string.Empty;

        /// <summary>The user as an identity object: a hashtable @{UserId=...}, a user object, a CSV row or a string.</summary>
        [Parameter(Mandatory = true, ParameterSetName = InvalidateViaIdentityParameterSet, ValueFromPipeline = true)]
        public IUsersActionsIdentity InputObject { get; set; } = new UsersActionsIdentity();

        private protected override RevocationAction Action => RevocationAction.InvalidateAllRefreshTokens;

        private protected override string BoundUserId => UserId;

        private protected override IUsersActionsIdentity? BoundInputObject => InputObject;

        private protected override bool ViaIdentity => ParameterSetName == InvalidateViaIdentityParameterSet;
    }
}
