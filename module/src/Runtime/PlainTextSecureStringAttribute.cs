using System.Management.Automation;
using System.Runtime.CompilerServices;
using System.Security;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>
    /// Lets a SecureString parameter also take a plain string (v1-era scripts pass -AccessToken
    /// $token), converting it while binding; the parameter's type stays SecureString. Attributes
    /// cannot write warnings, so each conversion is remembered and the cmdlet warns when it runs
    /// (<see cref="WasPlainText"/>).
    /// </summary>
    internal sealed class PlainTextSecureStringAttribute : ArgumentTransformationAttribute
    {
        private static readonly ConditionalWeakTable<SecureString, object> s_converted = new();

        /// <summary>Whether this SecureString was made from a plain string while binding.</summary>
        internal static bool WasPlainText(SecureString value)
        {
            return s_converted.TryGetValue(value, out _);
        }

        /// <inheritdoc/>
        public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
        {
            object value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
            if (value is not string text)
            {
                return inputData;
            }

            SecureString secure = new();
            foreach (char c in text)
            {
                secure.AppendChar(c);
            }

            secure.MakeReadOnly();
            s_converted.AddOrUpdate(secure, true);
            return secure;
        }
    }
}
