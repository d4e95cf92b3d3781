using System.Management.Automation;
using Microsoft.Graph.Beta.PowerShell.Native;

namespace Microsoft.Graph.Beta.PowerShell
{
    /// <summary>Runs when PowerShell imports the module: points P/Invoke at the bundled Rust library.</summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer
    {
        /// <inheritdoc/>
        public void OnImport()
        {
            NativeLibraryResolver.Register();
        }
    }
}
