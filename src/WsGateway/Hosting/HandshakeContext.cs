using System.Net;
using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;

namespace WsGateway;

/// <summary>
/// The opening handshake of a WebSocket connection, as <see cref="TradeGatewayOptions.ValidateHandshake"/> sees it
/// before the gateway answers: request path and query, headers, the client's address and TLS certificate.
/// </summary>
/// <remarks>
/// The validator runs once per connection attempt, after the request was parsed and checked as a WebSocket upgrade,
/// after the origin allow-list and the connection limits, and before the 101 is sent. Header values are strings as
/// the client sent them (ISO-8859-1 decoded); never echo them back unchecked. Instances are valid only during the
/// call.
/// </remarks>
public sealed class HandshakeContext
{
    private readonly Func<string, string?> _getHeader;
    private Dictionary<string, StringValues>? _query;

    internal HandshakeContext(
        string path,
        string? queryString,
        EndPoint? remoteEndPoint,
        EndPoint? localEndPoint,
        bool isSecure,
        X509Certificate2? clientCertificate,
        ClaimsPrincipal user,
        Func<string, string?> getHeader,
        CancellationToken aborted)
    {
        Path = path;
        QueryString = queryString;
        RemoteEndPoint = remoteEndPoint;
        LocalEndPoint = localEndPoint;
        IsSecure = isSecure;
        ClientCertificate = clientCertificate;
        User = user;
        _getHeader = getHeader;
        Aborted = aborted;
    }

    /// <summary>The request path (for example <c>/trades</c>).</summary>
    public string Path { get; }

    /// <summary>The query after <c>?</c>, without the <c>?</c>; <see langword="null"/> when there is none.</summary>
    public string? QueryString { get; }

    /// <summary>The client's address and port, when the transport knows it.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>The local address and port the client connected to, when the transport knows it.</summary>
    public EndPoint? LocalEndPoint { get; }

    /// <summary>Whether the connection is encrypted (<c>wss://</c>).</summary>
    public bool IsSecure { get; }

    /// <summary>The certificate the client presented during the TLS handshake, if any.</summary>
    public X509Certificate2? ClientCertificate { get; }

    /// <summary>The identity established so far: in ASP.NET Core, the user the authentication middleware set; on the
    /// standalone server, an unauthenticated principal.</summary>
    public ClaimsPrincipal User { get; }

    /// <summary>Cancelled when the handshake timeout passes or the gateway shuts down: a validator that calls a
    /// remote service passes it on.</summary>
    public CancellationToken Aborted { get; }

    /// <summary>The <c>Origin</c> header (sent by browsers), or <see langword="null"/>.</summary>
    public string? Origin => GetHeader("Origin");

    /// <summary>The <c>Authorization</c> header, or <see langword="null"/>.</summary>
    public string? Authorization => GetHeader("Authorization");

    /// <summary>The <c>X-Api-Key</c> header, or <see langword="null"/>.</summary>
    public string? ApiKey => GetHeader("X-Api-Key");

    /// <summary>The <c>Cookie</c> header, or <see langword="null"/>.</summary>
    public string? Cookie => GetHeader("Cookie");

    /// <summary>The value of the header <paramref name="name"/> (case-insensitive), repeated fields joined with
    /// <c>", "</c>; <see langword="null"/> when absent.</summary>
    /// <param name="name">The header name.</param>
    /// <returns>The value, or <see langword="null"/>.</returns>
    public string? GetHeader(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _getHeader(name);
    }

    /// <summary>The (percent-decoded) value of the query parameter <paramref name="name"/>, repeated values joined
    /// with <c>","</c>; <see langword="null"/> when absent. Browsers cannot set headers on a WebSocket request, so a
    /// token often travels in the query.</summary>
    /// <param name="name">The parameter name.</param>
    /// <returns>The value, or <see langword="null"/>.</returns>
    public string? GetQueryValue(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (QueryString is null)
        {
            return null;
        }

        _query ??= QueryHelpers.ParseQuery(QueryString);
        return _query.TryGetValue(name, out StringValues values) ? values.ToString() : null;
    }
}

/// <summary>What <see cref="TradeGatewayOptions.ValidateHandshake"/> decided about a connection attempt.</summary>
public sealed class HandshakeResult
{
    private static readonly HandshakeResult s_anonymous = new(true, null, 101, null, null);

    private HandshakeResult(bool isAccepted, ClaimsPrincipal? user, int statusCode, string? reason, string? wwwAuthenticate)
    {
        IsAccepted = isAccepted;
        User = user;
        StatusCode = statusCode;
        Reason = reason;
        WwwAuthenticate = wwwAuthenticate;
    }

    /// <summary>Whether the connection is accepted (answered 101).</summary>
    public bool IsAccepted { get; }

    /// <summary>The identity handlers see as <see cref="IGatewayConnection.User"/>; <see langword="null"/> keeps the
    /// one the host established (unauthenticated on the standalone server).</summary>
    public ClaimsPrincipal? User { get; }

    /// <summary>101 when accepted, otherwise the HTTP status of the refusal (400-599).</summary>
    public int StatusCode { get; }

    /// <summary>The refusal's reason, sent as the plain-text body; <see langword="null"/> when accepted.</summary>
    public string? Reason { get; }

    /// <summary>The <c>WWW-Authenticate</c> challenge sent with a refusal (RFC 9110 §11.6.1: a 401 should carry
    /// one), or <see langword="null"/>.</summary>
    public string? WwwAuthenticate { get; }

    /// <summary>Accepts the connection with <paramref name="user"/> as its identity.</summary>
    /// <param name="user">The identity handlers see; <see langword="null"/> keeps the host's.</param>
    /// <returns>An accepting result.</returns>
    public static HandshakeResult Accept(ClaimsPrincipal? user = null) => user is null ? s_anonymous : new(true, user, 101, null, null);

    /// <summary>Refuses the connection before the 101: the client gets <paramref name="statusCode"/> with
    /// <paramref name="reason"/> as the body, and the TCP connection is closed.</summary>
    /// <param name="statusCode">400-599; usually 401 (no or bad credentials) or 403 (known but not allowed).</param>
    /// <param name="reason">A sentence for the client; do not put secrets in it.</param>
    /// <param name="wwwAuthenticate">An optional challenge such as <c>Bearer realm="trades"</c>: visible ASCII only.</param>
    /// <returns>A refusing result.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="statusCode"/> is not 400-599.</exception>
    /// <exception cref="ArgumentException"><paramref name="wwwAuthenticate"/> holds a control or non-ASCII character.</exception>
    public static HandshakeResult Reject(int statusCode, string reason, string? wwwAuthenticate = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        ArgumentNullException.ThrowIfNull(reason);
        if (wwwAuthenticate is not null)
        {
            foreach (char c in wwwAuthenticate)
            {
                if (c != '\t' && c is < ' ' or > '~')
                {
                    throw new ArgumentException("The WWW-Authenticate value must be visible ASCII (no control characters, no line breaks).", nameof(wwwAuthenticate));
                }
            }
        }

        return new(false, null, statusCode, reason, wwwAuthenticate);
    }

    /// <summary>Refuses with 401 Unauthorized: no credentials, or credentials that are not valid.</summary>
    /// <param name="reason">A sentence for the client.</param>
    /// <param name="wwwAuthenticate">The challenge, for example <c>ApiKey</c> or <c>Bearer</c>.</param>
    /// <returns>A refusing result.</returns>
    public static HandshakeResult Unauthorized(string reason, string? wwwAuthenticate = null) => Reject(401, reason, wwwAuthenticate);

    /// <summary>Refuses with 403 Forbidden: the client is known but not allowed here.</summary>
    /// <param name="reason">A sentence for the client.</param>
    /// <returns>A refusing result.</returns>
    public static HandshakeResult Forbidden(string reason) => Reject(403, reason);
}
