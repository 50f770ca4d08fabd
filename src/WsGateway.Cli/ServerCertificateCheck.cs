using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace WsGateway.Cli;

/// <summary>
/// How <c>wsgw send</c> checks a <c>wss://</c> server's certificate: the system's trust store (the default);
/// <c>--ca FILE</c>, which also trusts the PEM certificates in FILE (a private CA, or the server's self-signed
/// certificate); or <c>--insecure</c>, which accepts any. The host name is checked in every mode but
/// <c>--insecure</c>. A refusal is remembered as one sentence (<see cref="Failure"/>) for the error line.
/// </summary>
internal sealed class ServerCertificateCheck
{
    private readonly X509Certificate2Collection? _trusted;
    private readonly bool _insecure;
    private string? _failure;

    private ServerCertificateCheck(X509Certificate2Collection? trusted, bool insecure)
    {
        _trusted = trusted;
        _insecure = insecure;
    }

    /// <summary>Whether any certificate is accepted (<c>--insecure</c>).</summary>
    public bool IsInsecure => _insecure;

    /// <summary>Why the last certificate was refused, or null.</summary>
    public string? Failure => Volatile.Read(ref _failure);

    /// <summary><c>--ca</c> and <c>--insecure</c> are for <c>wss://</c>, and one at a time (a command validator sees
    /// no defaults: a null <paramref name="url"/> is the default <c>ws://</c>).</summary>
    public static string? OptionsProblem(Uri? url, string? ca, bool insecure)
        => ca is not null && insecure ? "--ca and --insecure exclude each other: --ca trusts one more CA, --insecure trusts any certificate"
        : (ca is not null || insecure) && url?.Scheme != "wss" ? $"{(insecure ? "--insecure" : "--ca")} is for wss:// URLs, got --url {url?.ToString() ?? "ws://127.0.0.1:9001/ (the default)"}"
        : null;

    /// <summary>The check <c>--ca</c> or <c>--insecure</c> ask for; the system's trust store without either.</summary>
    /// <exception cref="CertificateLoadException">The <c>--ca</c> file cannot be used.</exception>
    public static ServerCertificateCheck Create(string? ca, bool insecure)
        => insecure ? Insecure()
        : ca is not null ? Trusting(ca)
        : SystemStore();

    /// <summary>The system's trust store only.</summary>
    public static ServerCertificateCheck SystemStore() => new(null, insecure: false);

    /// <summary>Any certificate, any name (<c>--insecure</c>).</summary>
    public static ServerCertificateCheck Insecure() => new(null, insecure: true);

    /// <summary>The system's trust store and the certificates of a PEM (or DER) file (<c>--ca FILE</c>).</summary>
    /// <exception cref="CertificateLoadException">The file is missing, unreadable or holds no certificate; the
    /// message names it.</exception>
    public static ServerCertificateCheck Trusting(string caPath)
    {
        ArgumentNullException.ThrowIfNull(caPath);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(caPath);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CertificateLoadException($"--ca {caPath}: file not found", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CertificateLoadException($"--ca {caPath}: cannot read it: {e.Message.TrimEnd('.')}", e);
        }

        var trusted = new X509Certificate2Collection();
        try
        {
            if (bytes.AsSpan().IndexOf("-----BEGIN "u8) >= 0)
            {
                trusted.ImportFromPem(Encoding.ASCII.GetString(bytes));
            }
            else
            {
                trusted.Add(X509CertificateLoader.LoadCertificate(bytes));
            }
        }
        catch (CryptographicException e)
        {
            throw new CertificateLoadException($"--ca {caPath}: not a certificate: {e.Message.TrimEnd('.')}; expected PEM CERTIFICATE blocks (the CA, or the server's self-signed certificate)", e);
        }

        if (trusted.Count == 0)
        {
            throw new CertificateLoadException($"--ca {caPath}: no PEM CERTIFICATE block in it; expected the CA, or the server's self-signed certificate");
        }

        return new ServerCertificateCheck(trusted, insecure: false);
    }

    /// <summary>The callback for <see cref="WsGateway.Client.TradeClientOptions.RemoteCertificateValidationCallback"/>.</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (_insecure || errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return Refuse("the server sent no certificate");
        }

        using X509Certificate2 leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            string host = sender is SslStream { TargetHostName: { Length: > 0 } name } ? name : "the URL's host";
            return Refuse($"the server's certificate ({leaf.Subject}) is not for {host}: it names {Names(leaf)}");
        }

        if (_trusted is null)
        {
            return Refuse($"the server's certificate ({leaf.Subject}) is not trusted: {Describe(chain?.ChainStatus)}; --ca FILE trusts a private CA or a self-signed certificate, --insecure accepts any");
        }

        // The chain again, ending at a certificate of --ca this time, with what the server sent as intermediates.
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_trusted);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // a private CA publishes no revocation lists
        custom.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1")); // serverAuth, as the system check asks
        if (chain is not null)
        {
            custom.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
            foreach (X509ChainElement element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return custom.Build(leaf)
            || Refuse($"the server's certificate ({leaf.Subject}) is trusted neither by the system nor by --ca: {Describe(custom.ChainStatus)}");
    }

    private bool Refuse(string reason)
    {
        Volatile.Write(ref _failure, reason);
        return false;
    }

    private static string Describe(X509ChainStatus[]? statuses)
    {
        if (statuses is null || statuses.Length == 0)
        {
            return "its chain does not validate";
        }

        var text = new StringBuilder();
        foreach (X509ChainStatus status in statuses)
        {
            if (text.Length > 0)
            {
                text.Append("; ");
            }

            string detail = status.StatusInformation.Trim().TrimEnd('.');
            text.Append(status.Status switch
            {
                X509ChainStatusFlags.UntrustedRoot => "its root is not trusted (UntrustedRoot: self-signed, or issued by a CA this machine does not trust)",
                X509ChainStatusFlags.PartialChain => "its issuer is unknown (PartialChain: a private CA, or the server does not send its intermediates)",
                X509ChainStatusFlags.NotTimeValid => "it has expired or is not valid yet (NotTimeValid)",
                _ => detail.Length > 0 ? $"{detail} ({status.Status})" : status.Status.ToString(),
            });
        }

        return text.ToString();
    }

    private static string Names(X509Certificate2 certificate)
    {
        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension san)
            {
                var names = new List<string>();
                names.AddRange(san.EnumerateDnsNames());
                foreach (System.Net.IPAddress ip in san.EnumerateIPAddresses())
                {
                    names.Add(ip.ToString());
                }

                if (names.Count > 0)
                {
                    return string.Join(", ", names);
                }
            }
        }

        return certificate.GetNameInfo(X509NameType.DnsName, forIssuer: false) is { Length: > 0 } cn ? cn : "no host name";
    }
}
