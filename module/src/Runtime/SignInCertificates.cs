using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>
    /// Finds and checks the certificate for app-only sign-in, and exports what Rust needs: the
    /// DER (public) and the RSA private key as PKCS#8 into a pinned buffer the caller wipes.
    /// Failures are ErrorRecords naming the cause.
    /// </summary>
    internal static class SignInCertificates
    {
        /// <summary>Big enough for the PKCS#8 form of an RSA key of 8192 bits.</summary>
        private const int MaxPkcs8Length = 8192;

        /// <summary>Finds a certificate by thumbprint or subject in the CurrentUser, then LocalMachine, My store: unexpired, newest first.</summary>
        internal static X509Certificate2 Find(string? thumbprint, string? subjectName)
        {
            string? wanted = null;
            if (thumbprint is not null)
            {
                wanted = new string(thumbprint.Where(c => !char.IsWhiteSpace(c) && c != ':' && c != '\u200e').ToArray()).ToUpperInvariant();
                if (wanted.Length != 40 || !wanted.All(Uri.IsHexDigit))
                {
                    throw Failure(
                        $"The certificate thumbprint '{thumbprint}' is not a SHA-1 thumbprint: it must be 40 hexadecimal characters, and has {wanted.Length}. Copy the Thumbprint of the certificate (Get-ChildItem Cert:\\CurrentUser\\My).",
                        "InvalidCertificateThumbprint",
                        ErrorCategory.InvalidArgument,
                        thumbprint);
                }
            }

            DateTime now = DateTime.Now;
            bool sawExpired = false;
            foreach (StoreLocation location in new[] { StoreLocation.CurrentUser, StoreLocation.LocalMachine })
            {
                using X509Store store = new(StoreName.My, location);
                try
                {
                    store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
                }
                catch (CryptographicException)
                {
                    continue;
                }

                List<X509Certificate2> matches = store.Certificates
                    .Where(certificate => wanted is not null
                        ? string.Equals(certificate.Thumbprint, wanted, StringComparison.OrdinalIgnoreCase)
                        : SubjectMatches(certificate, subjectName!))
                    .ToList();
                sawExpired |= matches.Any(certificate => certificate.NotAfter <= now);
                X509Certificate2? found = matches
                    .Where(certificate => certificate.NotBefore <= now && certificate.NotAfter > now)
                    .OrderByDescending(certificate => certificate.NotBefore)
                    .FirstOrDefault();
                if (found is not null)
                {
                    return found;
                }
            }

            string what = wanted is not null ? $"thumbprint {wanted}" : $"subject name '{subjectName}'";
            throw Failure(
                sawExpired
                    ? $"Every certificate with {what} in the CurrentUser and LocalMachine My stores has expired: renew the certificate and upload the new one to the app registration."
                    : $"No certificate with {what} was found in the CurrentUser or LocalMachine My store: import it (with its private key) or pass -Certificate.",
                sawExpired ? "CertificateExpired" : "CertificateNotFound",
                sawExpired ? ErrorCategory.InvalidArgument : ErrorCategory.ObjectNotFound,
                thumbprint ?? subjectName);
        }

        /// <summary>Refuses a certificate that cannot sign in: expired, not yet valid, or without a private key.</summary>
        internal static void Check(X509Certificate2 certificate)
        {
            DateTime now = DateTime.Now;
            if (certificate.NotAfter <= now)
            {
                throw Failure(
                    $"The certificate {certificate.Thumbprint} ({certificate.Subject}) expired on {certificate.NotAfter.ToString("u", CultureInfo.InvariantCulture)}: renew it and upload the new one to the app registration.",
                    "CertificateExpired",
                    ErrorCategory.InvalidArgument,
                    certificate.Thumbprint);
            }

            if (certificate.NotBefore > now)
            {
                throw Failure(
                    $"The certificate {certificate.Thumbprint} ({certificate.Subject}) is not valid before {certificate.NotBefore.ToString("u", CultureInfo.InvariantCulture)}.",
                    "CertificateNotYetValid",
                    ErrorCategory.InvalidArgument,
                    certificate.Thumbprint);
            }

            if (!certificate.HasPrivateKey)
            {
                throw Failure(
                    $"The certificate {certificate.Thumbprint} ({certificate.Subject}) has no private key: import it from a .pfx with its key, or use the certificate the key was created with.",
                    "CertificateWithoutPrivateKey",
                    ErrorCategory.InvalidArgument,
                    certificate.Thumbprint);
            }
        }

        /// <summary>
        /// Exports the RSA private key as PKCS#8 into a pinned array (never moved by the GC); the
        /// caller must wipe it with CryptographicOperations.ZeroMemory.
        /// </summary>
        internal static (byte[] Buffer, int Length) ExportPrivateKey(X509Certificate2 certificate)
        {
            using RSA? rsa = certificate.GetRSAPrivateKey();
            if (rsa is null)
            {
                throw Failure(
                    $"The certificate {certificate.Thumbprint} does not have an RSA private key: Entra ID client assertions need an RSA certificate.",
                    "CertificateKeyNotSupported",
                    ErrorCategory.InvalidArgument,
                    certificate.Thumbprint);
            }

            byte[] buffer = GC.AllocateUninitializedArray<byte>(MaxPkcs8Length, pinned: true);
            try
            {
                if (!rsa.TryExportPkcs8PrivateKey(buffer, out int written))
                {
                    throw new CryptographicException("the key is larger than 8192 bits");
                }

                return (buffer, written);
            }
            catch (CryptographicException exception)
            {
                CryptographicOperations.ZeroMemory(buffer);
                throw Failure(
                    $"The private key of certificate {certificate.Thumbprint} cannot be exported ({exception.Message}): import the certificate with an exportable key (X509KeyStorageFlags.Exportable).",
                    "CertificateKeyNotExportable",
                    ErrorCategory.InvalidArgument,
                    certificate.Thumbprint);
            }
        }

        /// <summary>The issuers of a certificate as base64 DER (leaf excluded), for -SendCertificateChain.</summary>
        internal static List<string> Chain(X509Certificate2 certificate)
        {
            using X509Chain chain = new();
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
            chain.Build(certificate);
            return chain.ChainElements
                .Skip(1)
                .Select(element => Convert.ToBase64String(element.Certificate.RawData))
                .ToList();
        }

        private static bool SubjectMatches(X509Certificate2 certificate, string subjectName)
        {
            string wanted = subjectName.Trim();
            string subject = certificate.Subject;
            return string.Equals(subject, wanted, StringComparison.OrdinalIgnoreCase)
                || string.Equals(subject, "CN=" + wanted, StringComparison.OrdinalIgnoreCase)
                || string.Equals(certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false), wanted, StringComparison.OrdinalIgnoreCase);
        }

        private static CertificateException Failure(string message, string errorId, ErrorCategory category, object? target)
        {
            return new CertificateException(new ErrorRecord(new ArgumentException(message), errorId, category, target));
        }
    }

    /// <summary>Carries the ErrorRecord of a certificate problem to the cmdlet.</summary>
    internal sealed class CertificateException : Exception
    {
        internal CertificateException(ErrorRecord record)
            : base(record.Exception.Message)
        {
            Record = record;
        }

        internal ErrorRecord Record { get; }
    }
}
