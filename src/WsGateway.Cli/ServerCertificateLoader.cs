using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace WsGateway.Cli;

/// <summary>
/// The server certificate of <c>wsgw serve --cert FILE [--key FILE]</c>: a PEM certificate chain (leaf first, then
/// intermediates, as Let's Encrypt's <c>fullchain.pem</c>) with a PEM private key, or a PKCS#12 file (<c>.pfx</c>,
/// <c>.p12</c>) whose password is read from <see cref="PasswordVariable"/>, never from the command line. Everything a
/// client would refuse, or Kestrel would throw on at start, is refused here with one line naming the file and the
/// problem.
/// </summary>
internal static class ServerCertificateLoader
{
    /// <summary>The environment variable holding the password of a PKCS#12 file or of an encrypted PEM key.</summary>
    public const string PasswordVariable = "WSGW_CERT_PASSWORD";

    /// <summary>A certificate expiring within this time is served with a warning on standard error.</summary>
    public static readonly TimeSpan ExpiryWarning = TimeSpan.FromDays(14);

    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";

    // ERROR_INVALID_PASSWORD: what the PKCS#12 loader throws for a wrong (or missing) password.
    private const int InvalidPassword = unchecked((int)0x80070056);

    /// <summary>Loads and checks the certificate.</summary>
    /// <param name="certPath">The <c>--cert</c> file, as the user gave it (it names the file in errors).</param>
    /// <param name="keyPath">The <c>--key</c> file, or null (PKCS#12, or a PEM file holding its key too).</param>
    /// <param name="password">The value of <see cref="PasswordVariable"/>, or null when unset.</param>
    /// <param name="now">The time the validity period is checked against.</param>
    /// <returns>The certificate with its private key, the intermediates to send with it, and a warning to print when
    /// it expires soon.</returns>
    /// <exception cref="CertificateLoadException">The files cannot be served; the message is one line, naming the file
    /// and what is wrong with it.</exception>
    public static ServerCertificate Load(string certPath, string? keyPath, string? password, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(certPath);
        byte[] bytes = ReadFile(certPath, "--cert");
        bool pem = LooksLikePem(bytes);
        (X509Certificate2 leaf, X509Certificate2Collection chain) = pem
            ? LoadPem(certPath, bytes, keyPath, password)
            : LoadPkcs12(certPath, bytes, keyPath, password);
        try
        {
            string? warning = Check(certPath, leaf, now);
            if (OperatingSystem.IsWindows())
            {
                // SslStream on Windows cannot use an ephemeral (PEM-imported) key: give it a PKCS#12-backed one.
                X509Certificate2 persisted = X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pkcs12), null);
                leaf.Dispose();
                leaf = persisted;
            }

            return new ServerCertificate(leaf, chain, warning);
        }
        catch
        {
            leaf.Dispose();
            throw;
        }
    }

    /// <summary>The certificate's subject and validity for the banner: <c>CN=gateway.example.com, expires
    /// 2027-03-01</c>.</summary>
    public static string Describe(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return string.Create(CultureInfo.InvariantCulture, $"{certificate.Subject}, expires {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}");
    }

    private static string? Check(string certPath, X509Certificate2 leaf, DateTimeOffset now)
    {
        var notAfter = new DateTimeOffset(leaf.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        var notBefore = new DateTimeOffset(leaf.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        if (notAfter < now)
        {
            throw new CertificateLoadException(string.Create(CultureInfo.InvariantCulture, $"--cert {certPath}: the certificate ({leaf.Subject}) expired on {notAfter:yyyy-MM-dd HH:mm} UTC; every client would refuse it: renew it"));
        }

        if (notBefore > now)
        {
            throw new CertificateLoadException(string.Create(CultureInfo.InvariantCulture, $"--cert {certPath}: the certificate ({leaf.Subject}) is not valid before {notBefore:yyyy-MM-dd HH:mm} UTC; every client would refuse it until then (is this machine's clock right?)"));
        }

        foreach (X509Extension extension in leaf.Extensions)
        {
            if (extension is X509EnhancedKeyUsageExtension usage && !HasServerAuth(usage))
            {
                throw new CertificateLoadException($"--cert {certPath}: the certificate ({leaf.Subject}) is not for TLS servers: its extended key usage lacks serverAuth ({ServerAuthOid})");
            }
        }

        TimeSpan left = notAfter - now;
        return left < ExpiryWarning
            ? string.Create(CultureInfo.InvariantCulture, $"warning: --cert {certPath}: the certificate ({leaf.Subject}) expires on {notAfter:yyyy-MM-dd HH:mm} UTC, in {left.TotalDays:0.#} days; renew it and restart wsgw serve")
            : null;
    }

    private static bool HasServerAuth(X509EnhancedKeyUsageExtension usage)
    {
        foreach (Oid oid in usage.EnhancedKeyUsages)
        {
            if (oid.Value == ServerAuthOid)
            {
                return true;
            }
        }

        return false;
    }

    private static (X509Certificate2 Leaf, X509Certificate2Collection Chain) LoadPem(string certPath, byte[] bytes, string? keyPath, string? password)
    {
        string text = System.Text.Encoding.ASCII.GetString(bytes);
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(text);
        }
        catch (CryptographicException e)
        {
            throw new CertificateLoadException($"--cert {certPath}: a CERTIFICATE block cannot be read: {e.Message.TrimEnd('.')}", e);
        }

        if (certificates.Count == 0)
        {
            throw new CertificateLoadException($"--cert {certPath}: no PEM CERTIFICATE block in it; expected the server's certificate, then its intermediates (e.g. fullchain.pem)");
        }

        X509Certificate2 certificate = certificates[0];
        var chain = new X509Certificate2Collection();
        for (int i = 1; i < certificates.Count; i++)
        {
            chain.Add(certificates[i]);
        }

        string keyText;
        string keyFile;
        if (keyPath is not null)
        {
            keyText = System.Text.Encoding.ASCII.GetString(ReadFile(keyPath, "--key"));
            keyFile = $"--key {keyPath}";
        }
        else if (text.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            keyText = text;
            keyFile = $"--cert {certPath}";
        }
        else
        {
            throw new CertificateLoadException($"--cert {certPath} is a PEM certificate without its private key: give the key with --key FILE (PEM)");
        }

        bool encrypted = keyText.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal);
        if (encrypted && string.IsNullOrEmpty(password))
        {
            throw new CertificateLoadException($"{keyFile}: the private key is encrypted: set {PasswordVariable} to its password (never on the command line)");
        }

        if (!keyText.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            throw new CertificateLoadException($"{keyFile}: no PEM private key in it; expected a PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block");
        }

        try
        {
            X509Certificate2 withKey = certificate.GetKeyAlgorithm() switch
            {
                "1.2.840.113549.1.1.1" => WithKey(certificate, RSA.Create(), keyText, encrypted, password, RSACertificateExtensions.CopyWithPrivateKey),
                "1.2.840.10045.2.1" => WithKey(certificate, ECDsa.Create(), keyText, encrypted, password, ECDsaCertificateExtensions.CopyWithPrivateKey),
                string other => throw new CertificateLoadException($"--cert {certPath}: the certificate's key algorithm ({other}) is not supported; expected RSA or ECDSA"),
            };
            certificate.Dispose();
            return (withKey, chain);
        }
        catch (ArgumentException e) when (e.Message.Contains("match", StringComparison.OrdinalIgnoreCase))
        {
            throw new CertificateLoadException($"{keyFile}: the private key does not match the certificate in --cert {certPath} ({certificate.Subject})", e);
        }
        catch (ArgumentException e)
        {
            throw new CertificateLoadException($"{keyFile}: no private key of the certificate's type ({KeyType(certificate)}) in it: {e.Message.Split(" (Parameter", 2)[0].TrimEnd('.')}", e);
        }
        catch (CryptographicException e) when (encrypted)
        {
            throw new CertificateLoadException($"{keyFile}: the password in {PasswordVariable} does not decrypt the private key", e);
        }
        catch (CryptographicException e)
        {
            // An RSA key for an ECDSA certificate (or the other way) reads as "not a valid key".
            throw new CertificateLoadException($"{keyFile}: the private key cannot be used with the certificate in --cert {certPath} ({KeyType(certificate)}): {e.Message.TrimEnd('.')}", e);
        }
    }

    private static X509Certificate2 WithKey<TKey>(X509Certificate2 certificate, TKey key, string keyText, bool encrypted, string? password, Func<X509Certificate2, TKey, X509Certificate2> combine)
        where TKey : AsymmetricAlgorithm
    {
        using (key)
        {
            if (encrypted)
            {
                key.ImportFromEncryptedPem(keyText, password);
            }
            else
            {
                key.ImportFromPem(keyText);
            }

            return combine(certificate, key);
        }
    }

    private static string KeyType(X509Certificate2 certificate) => certificate.GetKeyAlgorithm() switch
    {
        "1.2.840.113549.1.1.1" => "RSA",
        "1.2.840.10045.2.1" => "ECDSA",
        string other => other,
    };

    private static (X509Certificate2 Leaf, X509Certificate2Collection Chain) LoadPkcs12(string certPath, byte[] bytes, string? keyPath, string? password)
    {
        if (keyPath is not null)
        {
            throw new CertificateLoadException($"--key is for a PEM --cert: {certPath} is not PEM (a PKCS#12 file carries its own key; its password comes from {PasswordVariable})");
        }

        X509ContentType type;
        try
        {
            type = X509Certificate2.GetCertContentType(bytes);
        }
        catch (CryptographicException)
        {
            type = X509ContentType.Unknown; // not even DER: the PKCS#12 reader below says what is wrong
        }

        if (type is X509ContentType.Cert)
        {
            throw new CertificateLoadException($"--cert {certPath} is a DER certificate without its private key: give it as PEM with --key FILE, or as a PKCS#12 (.pfx) file");
        }

        X509Certificate2Collection all;
        try
        {
            // Ephemeral keys stay in memory (no key files written to the user's profile); Windows' SslStream cannot
            // use them, so there they go to the default store for the process's life.
            X509KeyStorageFlags flags = OperatingSystem.IsWindows() ? X509KeyStorageFlags.DefaultKeySet : X509KeyStorageFlags.EphemeralKeySet;
            all = X509CertificateLoader.LoadPkcs12Collection(bytes, string.IsNullOrEmpty(password) ? null : password, flags);
        }
        catch (CryptographicException e) when (e.HResult == InvalidPassword)
        {
            throw new CertificateLoadException(string.IsNullOrEmpty(password)
                ? $"--cert {certPath}: the PKCS#12 file is protected by a password: set {PasswordVariable} to it (never on the command line)"
                : $"--cert {certPath}: the password in {PasswordVariable} is not the PKCS#12 file's password", e);
        }
        catch (CryptographicException e)
        {
            throw new CertificateLoadException($"--cert {certPath}: neither PEM nor a readable PKCS#12 (.pfx) file: {e.Message.TrimEnd('.')}", e);
        }

        X509Certificate2? leaf = null;
        var chain = new X509Certificate2Collection();
        foreach (X509Certificate2 certificate in all)
        {
            if (leaf is null && certificate.HasPrivateKey)
            {
                leaf = certificate;
            }
            else
            {
                chain.Add(certificate);
            }
        }

        if (leaf is null)
        {
            foreach (X509Certificate2 certificate in all)
            {
                certificate.Dispose();
            }

            throw new CertificateLoadException($"--cert {certPath}: the PKCS#12 file holds no private key; export the certificate with its key");
        }

        return (leaf, chain);
    }

    private static byte[] ReadFile(string path, string option)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CertificateLoadException($"{option} {path}: file not found", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CertificateLoadException($"{option} {path}: cannot read it: {e.Message.TrimEnd('.')}", e);
        }
    }

    private static bool LooksLikePem(ReadOnlySpan<byte> bytes) => bytes.IndexOf("-----BEGIN "u8) >= 0;
}

/// <summary>A loaded server certificate.</summary>
/// <param name="Certificate">The certificate, with its private key.</param>
/// <param name="Chain">The intermediates sent with it (the rest of a PEM chain, or of a PKCS#12 file).</param>
/// <param name="Warning">A line to print (it expires soon), or null.</param>
internal sealed record ServerCertificate(X509Certificate2 Certificate, X509Certificate2Collection Chain, string? Warning);

/// <summary>The <c>--cert</c>/<c>--key</c> files cannot be served; the message is one line naming the file and why.</summary>
internal sealed class CertificateLoadException : Exception
{
    public CertificateLoadException(string message)
        : base(message)
    {
    }

    public CertificateLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
