using System;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace PwshHost.Bridge
{
    /// <summary>
    /// Makes an installed PowerShell's assemblies loadable in this runtime: the bridge is compiled
    /// against PowerShell but ships none of it. An <see cref="AssemblyDependencyResolver"/> over
    /// <c>pwsh.dll</c> reads pwsh's own <c>.deps.json</c>, which knows the per-platform folders
    /// (such as <c>runtimes/unix/lib/...</c>) that a hand-written probe misses. This type touches no
    /// PowerShell type, so it can run before PowerShell is resolvable.
    /// </summary>
    internal static class PowerShellResolver
    {
        private static readonly object s_lock = new();
        private static string? s_psHome;
        private static AssemblyDependencyResolver? s_resolver;

        /// <summary>The PowerShell folder the process is bound to, once <see cref="Register"/> succeeded.</summary>
        internal static string? PSHome => s_psHome;

        /// <summary>
        /// Binds this process to the PowerShell in <paramref name="psHome"/>. A process hosts one
        /// PowerShell: registering the same folder again is harmless, another one is refused.
        /// </summary>
        /// <returns>null when bound, else a message saying what is wrong and what to do.</returns>
        internal static string? Register(string psHome)
        {
            string folder = Path.GetFullPath(psHome);
            lock (s_lock)
            {
                if (s_psHome is not null)
                {
                    return PathsEqual(s_psHome, folder)
                        ? null
                        : $"this process already runs the PowerShell in '{s_psHome}' and cannot load a second one from '{folder}': start a new process";
                }

                string? problem = CheckInstallation(folder);
                if (problem is not null)
                {
                    return problem;
                }

                AssemblyDependencyResolver resolver;
                try
                {
                    resolver = new AssemblyDependencyResolver(Path.Combine(folder, "pwsh.dll"));
                }
                catch (Exception e)
                {
                    return $"the PowerShell installation in '{folder}' is broken (its pwsh.deps.json could not be read: {e.Message}): reinstall PowerShell";
                }

                s_resolver = resolver;
                s_psHome = folder;
                AssemblyLoadContext.Default.Resolving += ResolveAssembly;
                AssemblyLoadContext.Default.ResolvingUnmanagedDll += ResolveUnmanagedDll;
                return null;
            }
        }

        private static string? CheckInstallation(string folder)
        {
            if (!Directory.Exists(folder))
            {
                return $"there is no PowerShell installation in '{folder}' (the folder does not exist): install PowerShell 7.6 or pass the folder that holds pwsh.dll";
            }

            foreach (string file in new[] { "pwsh.dll", "pwsh.deps.json", "System.Management.Automation.dll" })
            {
                if (!File.Exists(Path.Combine(folder, file)))
                {
                    return $"the PowerShell installation in '{folder}' is incomplete ({file} is missing): reinstall PowerShell 7.6 or pass the folder that holds pwsh.dll";
                }
            }

            AssemblyName installed;
            try
            {
                installed = AssemblyName.GetAssemblyName(Path.Combine(folder, "System.Management.Automation.dll"));
            }
            catch (Exception e)
            {
                return $"the PowerShell installation in '{folder}' is broken (System.Management.Automation.dll cannot be loaded: {e.Message}): reinstall PowerShell";
            }

            Version? required = RequiredPowerShellVersion();
            if (required is not null && installed.Version is not null && installed.Version < required)
            {
                return $"the PowerShell in '{folder}' is too old (System.Management.Automation {installed.Version}; this host was built against {required}): install PowerShell 7.6 or later";
            }

            return null;
        }

        /// <summary>The System.Management.Automation version this bridge was compiled against.</summary>
        private static Version? RequiredPowerShellVersion()
        {
            foreach (AssemblyName reference in typeof(PowerShellResolver).Assembly.GetReferencedAssemblies())
            {
                if (reference.Name == "System.Management.Automation")
                {
                    return reference.Version;
                }
            }

            return null;
        }

        private static Assembly? ResolveAssembly(AssemblyLoadContext context, AssemblyName name)
        {
            string? path = s_resolver?.ResolveAssemblyToPath(name);
            return path is null ? null : context.LoadFromAssemblyPath(path);
        }

        private static nint ResolveUnmanagedDll(Assembly assembly, string name)
        {
            // Without this, PowerShell's own native library (libpsl-native) is not found, and its
            // DllNotFoundException on a PowerShell thread would end the process.
            string? path = s_resolver?.ResolveUnmanagedDllToPath(name);
            return path is null ? 0 : System.Runtime.InteropServices.NativeLibrary.Load(path);
        }

        private static bool PathsEqual(string a, string b) =>
            string.Equals(
                Path.TrimEndingDirectorySeparator(a),
                Path.TrimEndingDirectorySeparator(b),
                OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }
}
