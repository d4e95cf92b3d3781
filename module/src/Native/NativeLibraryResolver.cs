using System;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Microsoft.Graph.Beta.PowerShell.Native
{
    /// <summary>
    /// Loads the Rust library from <c>&lt;module folder&gt;/&lt;os&gt;-&lt;arch&gt;/</c>, whatever the
    /// current directory. .NET never probes per-platform folders, and PowerShell's own fallback
    /// looks for a name without the <c>lib</c> prefix that Rust gives its output on Unix, so the
    /// module resolves the exact path itself.
    /// </summary>
    internal static class NativeLibraryResolver
    {
        internal const string LibraryName = "graph_ffi";

        private static readonly object s_lock = new();
        private static bool s_registered;

        /// <summary>Registers the resolver once per process (Import-Module -Force runs OnImport again).</summary>
        internal static void Register()
        {
            lock (s_lock)
            {
                if (s_registered)
                {
                    return;
                }

                NativeLibrary.SetDllImportResolver(typeof(NativeLibraryResolver).Assembly, Resolve);
                s_registered = true;
            }
        }

        /// <summary>The full path of the native library for this process's platform.</summary>
        internal static string LibraryPath()
        {
            string moduleFolder = Path.GetDirectoryName(typeof(NativeLibraryResolver).Assembly.Location)
                ?? AppContext.BaseDirectory;
            return Path.Combine(moduleFolder, RuntimeIdentifier(), FileName());
        }

        private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
        {
            if (libraryName != LibraryName)
            {
                return IntPtr.Zero;
            }

            string path = LibraryPath();
            if (!File.Exists(path))
            {
                throw new DllNotFoundException(
                    $"The native library of Microsoft.Graph.Beta.Users.Actions was not found at '{path}'. " +
                    $"This build of the module does not support {RuntimeIdentifier()}, or the module folder is incomplete: reinstall the module.");
            }

            return NativeLibrary.Load(path);
        }

        private static string RuntimeIdentifier()
        {
            string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
            string arch = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 => "x64",
                Architecture.Arm64 => "arm64",
                Architecture other => other.ToString().ToLowerInvariant(),
            };
            return $"{os}-{arch}";
        }

        private static string FileName()
        {
            if (OperatingSystem.IsWindows())
            {
                return LibraryName + ".dll";
            }

            return OperatingSystem.IsMacOS() ? $"lib{LibraryName}.dylib" : $"lib{LibraryName}.so";
        }
    }
}
