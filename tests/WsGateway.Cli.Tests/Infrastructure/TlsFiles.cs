using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace WsGateway.Cli.Tests.Infrastructure;

/// <summary>Certificates made in the test (CertificateRequest) and written where <c>wsgw serve --cert</c> and
/// <c>wsgw send --ca</c> read them: PEM certificates and keys, PKCS#12 files, in a temp folder deleted on dispose.</summary>
internal sealed class TlsFiles : IDisposable
{
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    public TlsFiles()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("wsgw-tls-").FullName;
    }

    public string Directory { get; }

    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>A self-signed server certificate for <c>localhost</c> and <c>127.0.0.1</c> (unless other names are
    /// given), valid from 5 minutes ago for 30 days (unless told otherwise: within 14 days wsgw serve warns).</summary>
    public static X509Certificate2 SelfSigned(string[]? dnsNames = null, bool ipLoopback = true, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, bool rsa = false, string usage = ServerAuth)
    {
        using AsymmetricAlgorithm key = rsa ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string[] names = dnsNames ?? ["localhost"];
        CertificateRequest request = Request($"CN={names[0]}", key);
        request.CertificateExtensions.Add(Names(names, ipLoopback));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], critical: false));
        return request.CreateSelfSigned(notBefore ?? DateTimeOffset.UtcNow.AddMinutes(-5), notAfter ?? DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>A CA certificate (self-signed root, or issued by <paramref name="issuer"/>), with its key.</summary>
    public static X509Certificate2 Ca(string name, X509Certificate2? issuer = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateRequest request = Request($"CN={name}", key);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        DateTimeOffset from = DateTimeOffset.UtcNow.AddMinutes(-10);
        DateTimeOffset to = DateTimeOffset.UtcNow.AddDays(issuer is null ? 90 : 60);
        if (issuer is null)
        {
            return request.CreateSelfSigned(from, to);
        }

        using X509Certificate2 issued = request.Create(issuer, from, to, RandomSerial());
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>A server certificate for localhost and 127.0.0.1 issued by <paramref name="issuer"/>, with its key.</summary>
    public static X509Certificate2 Issue(X509Certificate2 issuer, string name = "localhost")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateRequest request = Request($"CN={name}", key);
        request.CertificateExtensions.Add(Names([name], ipLoopback: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuth)], critical: false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: false));
        using X509Certificate2 issued = request.Create(issuer, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30), RandomSerial());
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Writes the certificates, in order, as PEM CERTIFICATE blocks.</summary>
    public string WriteCertificates(string name, params X509Certificate2[] certificates)
    {
        string path = PathOf(name);
        File.WriteAllText(path, string.Concat(certificates.Select(c => c.ExportCertificatePem() + "\n")));
        return path;
    }

    /// <summary>Writes the private key of <paramref name="certificate"/> as PEM PKCS#8, encrypted with
    /// <paramref name="password"/> when given.</summary>
    public string WriteKey(string name, X509Certificate2 certificate, string? password = null)
    {
        AsymmetricAlgorithm key = (AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey() ?? certificate.GetRSAPrivateKey()!;
        using (key)
        {
            string pem = password is null
                ? key.ExportPkcs8PrivateKeyPem()
                : key.ExportEncryptedPkcs8PrivateKeyPem(password, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10_000));
            string path = PathOf(name);
            File.WriteAllText(path, pem);
            return path;
        }
    }

    /// <summary>Writes <paramref name="certificate"/> with its key (and <paramref name="chain"/>) as PKCS#12.</summary>
    public string WritePfx(string name, X509Certificate2 certificate, string? password, params X509Certificate2[] chain)
    {
        var collection = new X509Certificate2Collection(certificate);
        foreach (X509Certificate2 extra in chain)
        {
            collection.Add(X509CertificateLoader.LoadCertificate(extra.RawData)); // without its key
        }

        string path = PathOf(name);
        File.WriteAllBytes(path, collection.Export(X509ContentType.Pkcs12, password)!);
        return path;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static CertificateRequest Request(string subject, AsymmetricAlgorithm key) => key switch
    {
        ECDsa ec => new CertificateRequest(subject, ec, HashAlgorithmName.SHA256),
        RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        _ => throw new ArgumentException("ECDsa or RSA", nameof(key)),
    };

    private static X509Extension Names(string[] dnsNames, bool ipLoopback)
    {
        var san = new SubjectAlternativeNameBuilder();
        foreach (string name in dnsNames)
        {
            san.AddDnsName(name);
        }

        if (ipLoopback)
        {
            san.AddIpAddress(IPAddress.Loopback);
        }

        return san.Build();
    }

    private static byte[] RandomSerial() => RandomNumberGenerator.GetBytes(12);

    /// <summary>The EKU OID of TLS client authentication (a certificate that is not for servers).</summary>
    public const string ClientAuthUsage = ClientAuth;
}
