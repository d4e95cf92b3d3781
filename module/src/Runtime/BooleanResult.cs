using System.Management.Automation;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>
    /// The cmdlet's output: a real <see cref="bool"/> (<c>$r -is [bool]</c>, <c>if ($r)</c>) that also
    /// answers <c>.Value</c>, because some official versions returned a response object and public
    /// incident scripts read <c>(Invoke-MgBeta... -ErrorAction Stop).Value</c>.
    /// </summary>
    internal static class BooleanResult
    {
        internal static PSObject Create(bool value)
        {
            PSObject result = new(value);
            result.Properties.Add(new PSNoteProperty("Value", value));
            return result;
        }
    }
}
