using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Microsoft.Graph.Beta.PowerShell.Native
{
    /// <summary>
    /// Loads the Rust library from <c>&lt;module folder&gt;/&lt;os&gt;-&lt;arch&gt;/</c>, whatever the
    /// current directory. .NET never probes per-platform folders, and PowerShell's own fallback
    /// looks for a name without the <c>lib</c> prefix that Rust gives its output on Unix, so the
    /// module resolves the exact path itself, from <see cref="Platforms"/>.
    /// </summary>
    internal static class NativeLibraryResolver
    {
        internal const string LibraryName = "graph_ffi";

        /// <summary>
        /// Every platform the module ships a native library for: the folder (runtime identifier)
        /// and the file name Rust gives the library there. build.ps1 has the same table
        /// (<c>$NativeLibraries</c>); tests/Platforms.Tests.ps1 checks that the two agree.
        /// </summary>
        internal static readonly IReadOnlyList<NativePlatform> Platforms = new NativePlatform[]
        {
            new("linux-x64", "libgraph_ffi.so"),
            new("linux-arm64", "libgraph_ffi.so"),
            new("osx-x64", "libgraph_ffi.dylib"),
            new("osx-arm64", "libgraph_ffi.dylib"),
            new("win-x64", "graph_ffi.dll"),
            new("win-arm64", "graph_ffi.dll"),
        };

        private static readonly object s_lock = new();
        private static bool s_registered;

        /// <summary>
        /// Checks that the module folder holds the library for this platform, then registers the
        /// resolver once per process (Import-Module -Force runs OnImport again). Throws a
        /// <see cref="PlatformNotSupportedException"/> naming the platform and the folder looked
        /// in, so Import-Module fails with that message instead of a later DllNotFoundException.
        /// </summary>
        internal static void Register()
        {
            if (MissingLibraryMessage() is string problem)
            {
                throw new PlatformNotSupportedException(problem);
            }

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
            string rid = CurrentRuntimeIdentifier();
            return Path.Combine(ModuleFolder(), rid, Find(rid)?.FileName ?? LibraryName);
        }

        private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
        {
            if (libraryName != LibraryName)
            {
                return IntPtr.Zero;
            }

            if (MissingLibraryMessage() is string problem)
            {
                throw new DllNotFoundException(problem);
            }

            return NativeLibrary.Load(LibraryPath());
        }

        /// <summary>Why this platform's library cannot be loaded, or null when it is in place.</summary>
        private static string? MissingLibraryMessage()
        {
            string rid = CurrentRuntimeIdentifier();
            if (Find(rid) is not NativePlatform platform)
            {
                string supported = string.Join(", ", Platforms.Select(p => p.RuntimeIdentifier));
                return $"Microsoft.Graph.Beta.Users.Actions does not support the platform {rid}: it has native libraries for {supported} only.";
            }

            string folder = Path.Combine(ModuleFolder(), rid);
            if (!File.Exists(Path.Combine(folder, platform.FileName)))
            {
                return $"Microsoft.Graph.Beta.Users.Actions has no native library for the platform {rid}: '{platform.FileName}' was not found in the folder '{folder}'. " +
                    $"Install a package of the module that includes {rid}, or build the module on this machine with ./build.ps1.";
            }

            return null;
        }

        private static NativePlatform? Find(string rid)
        {
            return Platforms.FirstOrDefault(platform => platform.RuntimeIdentifier == rid);
        }

        private static string ModuleFolder()
        {
            return Path.GetDirectoryName(typeof(NativeLibraryResolver).Assembly.Location) ?? AppContext.BaseDirectory;
        }

        private static string CurrentRuntimeIdentifier()
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
    }

    /// <summary>One platform's folder (a .NET runtime identifier) and the native library's file name in it.</summary>
    internal sealed record NativePlatform(string RuntimeIdentifier, string FileName);
}
