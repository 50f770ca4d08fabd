using System.Net;
using System.Security.Claims;
using WsGateway.Diagnostics;

namespace WsGateway.Connections;

/// <summary>What <see cref="ConnectionManager.AdmitAsync"/> decided: admitted with an identity and the
/// <see cref="Lease"/> of its connection slot, or refused with the HTTP status and reason to answer.</summary>
internal readonly record struct AdmissionResult(ClaimsPrincipal? User, int StatusCode, string? Reason, string? WwwAuthenticate, AdmissionLease? Lease = null)
{
    public bool IsAdmitted => Lease is not null;

    public static AdmissionResult Refused(int statusCode, string reason, string? wwwAuthenticate = null) => new(null, statusCode, reason, wwwAuthenticate);
}

internal sealed partial class ConnectionManager
{
    /// <summary>
    /// The one admission path of both hostings, before the 101: origin allow-list (403), connection limits (503, or
    /// 429 per address), then the application's validator (its 4xx; 500 when it throws, whatever it throws; 503 when
    /// <paramref name="aborted"/> fires first: the handshake timeout or the shutdown). Every refusal is logged and
    /// counted. The slot taken by the limits is given back on every path that does not admit (try/finally); on
    /// admission the caller owns its <see cref="AdmissionResult.Lease"/>, and disposing it gives the slot back.
    /// </summary>
    /// <param name="connectionId">The connection's id, for the logs.</param>
    /// <param name="origin">The request's <c>Origin</c> header, or null.</param>
    /// <param name="address">The client's address (normalised), or null when unknown.</param>
    /// <param name="remoteEndPoint">The client's end point, for the logs.</param>
    /// <param name="user">The identity the host established so far.</param>
    /// <param name="createContext">Builds what the validator sees, given the token it must observe.</param>
    /// <param name="aborted">Fires at the handshake timeout or the shutdown.</param>
    public async ValueTask<AdmissionResult> AdmitAsync(
        long connectionId,
        string? origin,
        IPAddress? address,
        EndPoint? remoteEndPoint,
        ClaimsPrincipal user,
        Func<CancellationToken, HandshakeContext> createContext,
        CancellationToken aborted)
    {
        AdmissionResult result = await DecideAsync(connectionId, origin, address, user, createContext, aborted).ConfigureAwait(false);
        if (!result.IsAdmitted)
        {
            Log.HandshakeRejected(Logger, connectionId, remoteEndPoint, result.StatusCode, result.Reason ?? "Refused");
        }

        return result;
    }

    private async ValueTask<AdmissionResult> DecideAsync(
        long connectionId,
        string? origin,
        IPAddress? address,
        ClaimsPrincipal user,
        Func<CancellationToken, HandshakeContext> createContext,
        CancellationToken aborted)
    {
        if (!IsOriginAllowed(origin))
        {
            Metrics.HandshakeDenied(GatewayMetrics.DenialOrigin, 403);
            return AdmissionResult.Refused(403, Options.AllowedOrigins.Count == 0
                ? $"Origin '{HandshakeRejections.Printable(origin)}' is not allowed: no browser origin is (AllowedOrigins is empty and RequireListedOrigin is set; wsgw serve: --allow-origin)"
                : $"Origin '{HandshakeRejections.Printable(origin)}' is not allowed");
        }

        Admission admission = TryAdmit(address);
        if (admission != Admission.Admitted)
        {
            (int code, string reason) = DescribeRefusal(admission, address);
            return AdmissionResult.Refused(code, reason);
        }

        var lease = new AdmissionLease(this, address);
        bool admitted = false;
        try
        {
            AdmissionResult result = await ValidateAsync(connectionId, user, createContext, aborted).ConfigureAwait(false);
            if (result.User is not null && IsStopping)
            {
                result = AdmissionResult.Refused(503, "The gateway is shutting down");
            }

            admitted = result.User is not null;
            return admitted ? result with { Lease = lease } : result;
        }
        finally
        {
            if (!admitted)
            {
                lease.Dispose();
            }
        }
    }

    private async ValueTask<AdmissionResult> ValidateAsync(long connectionId, ClaimsPrincipal user, Func<CancellationToken, HandshakeContext> createContext, CancellationToken aborted)
    {
        if (Options.ValidateHandshake is not { } validate)
        {
            return new AdmissionResult(user, 101, null, null);
        }

        HandshakeResult? result;
        try
        {
            aborted.ThrowIfCancellationRequested();
            result = await validate(createContext(aborted)).AsTask().WaitAsync(aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            Metrics.LimitExceeded(GatewayMetrics.LimitHandshakeTimeout, GatewayMetrics.ActionRejected);
            return AdmissionResult.Refused(503, IsStopping
                ? "The gateway is shutting down"
                : $"Handshake validation did not complete within the {Options.HandshakeTimeout.TotalSeconds:0.###} s handshake timeout");
        }
        catch (Exception ex)
        {
            // Whatever the validator throws, an HttpClient timeout's TaskCanceledException included.
            Log.ValidatorFailed(Logger, connectionId, ex);
            return AdmissionResult.Refused(500, "Handshake validation failed");
        }

        if (result is null || !result.IsAccepted)
        {
            result ??= HandshakeResult.Reject(500, "Handshake validation failed");
            Metrics.HandshakeDenied(GatewayMetrics.DenialValidator, result.StatusCode);
            return AdmissionResult.Refused(result.StatusCode, result.Reason ?? "Refused", result.WwwAuthenticate);
        }

        return new AdmissionResult(result.User ?? user, 101, null, null);
    }
}
