using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using WsGateway.Connections.Handshake;

namespace WsGateway.Connections;

/// <summary>What a completed handshake hands to the session: the request path, the identity established (null for
/// none) and the lease of the connection slot.</summary>
internal readonly record struct HandshakeOutcome(string Path, ClaimsPrincipal? User, AdmissionLease Lease);

/// <summary>
/// The standalone server's first phase of a connection: read the HTTP/1.1 upgrade request, parse it, admit it
/// (<see cref="ConnectionManager.AdmitAsync"/>: origin, limits, the application's validator) and answer 101, or
/// refuse it with its status and reason. Its deadline is <see cref="TradeGatewayOptions.HandshakeTimeout"/> from the
/// TCP accept; past the request, the deadline cancels the validator instead of the read. ASP.NET Core hosting has no
/// such stage: the host's own request pipeline did it.
/// </summary>
/// <remarks>The stage lives only until the 101 is queued (or, for a refusal, until its connection is finished: a
/// refused handshake stays counted among those in progress while its socket holds a descriptor).</remarks>
internal sealed class HandshakeStage
{
    private readonly WebSocketConnection _connection;
    private readonly ConnectionManager _manager;
    private readonly bool _isSecure;
    private readonly X509Certificate2? _clientCertificate;
    private PendingHandshake? _pending;
    private CancellationTokenSource? _validation;
    private volatile bool _parsed;

    /// <param name="connection">The connection whose handshake this is.</param>
    /// <param name="manager">The gateway's connections.</param>
    /// <param name="pending">The connection's place among the handshakes in progress, taken at the TCP accept (before
    /// TLS) by the hosting, which starts the deadline; when null it is taken by <see cref="RunAsync"/>, and a connection
    /// over the limit is answered 503.</param>
    /// <param name="isSecure">Whether the connection came over TLS (the validator sees it).</param>
    /// <param name="clientCertificate">The certificate the client presented over TLS, if asked for one.</param>
    public HandshakeStage(WebSocketConnection connection, ConnectionManager manager, PendingHandshake? pending, bool isSecure, X509Certificate2? clientCertificate)
    {
        _connection = connection;
        _manager = manager;
        _isSecure = isSecure;
        _clientCertificate = clientCertificate;
        _pending = pending;
        if (pending is not null)
        {
            connection.Timeouts.StartHandshake(pending.AcceptedAt);
        }
    }

    /// <summary>Whether the upgrade request was parsed: from then on the deadline cancels the validator (through
    /// <see cref="CancelValidation"/>), never a read that the session would see.</summary>
    public bool IsParsed => _parsed;

    /// <summary>Runs the handshake. Null when it did not complete (refused, timed out, or the client left); the
    /// answer was written then. Over a transport that has the request already, it completes at once and allocates
    /// no task.</summary>
    public async ValueTask<HandshakeOutcome?> RunAsync()
    {
        ConnectionSender sender = _connection.Sender;
        if (_pending is null)
        {
            PendingHandshake? pending = _manager.BeginHandshakeOrRefuse(_connection.RemoteEndPoint, _connection.Id, out byte[]? refusal);
            if (pending is null)
            {
                _connection.Timeouts.StartHandshake(_manager.TimeProvider.GetTimestamp());
                sender.TryWriteRaw(refusal!, static (output, response) => output.Write(response));
                await sender.FlushAsync().ConfigureAwait(false);
                return null;
            }

            _connection.Timeouts.StartHandshake(pending.AcceptedAt);
            _pending = pending;
        }

        HandshakeRequest? request = await ReadRequestAsync(_connection.Transport.Input).ConfigureAwait(false);
        if (request is null)
        {
            return null;
        }

        _parsed = true;
        AdmissionResult admission = await AdmitAsync(request).ConfigureAwait(false);
        if (admission.Lease is not { } lease)
        {
            await WriteErrorAsync(admission.StatusCode, admission.Reason ?? "Refused", HandshakeRejections.Challenge(admission.WwwAuthenticate), logged: true).ConfigureAwait(false);
            return null;
        }

        sender.TryWriteRaw(request.Key, static (output, key) => HandshakeResponse.WriteSwitchingProtocols(output, key));
        EndPending();
        await sender.FlushAsync().ConfigureAwait(false);
        return new HandshakeOutcome(request.Path, admission.User, lease);
    }

    /// <summary>Stops counting the connection as a handshake in progress (after its 101, or once a refused one's
    /// socket is closed). Idempotent.</summary>
    public void EndPending()
    {
        _pending?.End();
        _pending = null;
    }

    /// <summary>Cancels the handshake validator, if one is running; its callbacks run on the thread pool, not on the
    /// caller's (a heartbeat or an event loop).</summary>
    public void CancelValidation()
    {
        if (_validation is { } validation)
        {
            try
            {
                _ = validation.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // The validator finished in the meantime.
            }
        }
    }

    private async ValueTask<HandshakeRequest?> ReadRequestAsync(PipeReader input)
    {
        TradeGatewayOptions options = _manager.Options;
        while (true)
        {
            ReadResult result = await input.ReadAsync().ConfigureAwait(false);
            if (result.IsCanceled)
            {
                string reason = $"Handshake not completed within {options.HandshakeTimeout.TotalSeconds:0.###} s";
                await WriteErrorAsync(408, reason).ConfigureAwait(false);
                return null;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            HandshakeParseStatus status = HandshakeParser.TryParse(buffer, options.MaxHandshakeSize, expectedPath: null, out SequencePosition consumed, out HandshakeRequest? request, out string? error, keepHeaders: options.ValidateHandshake is not null);
            if (status == HandshakeParseStatus.Ok)
            {
                input.AdvanceTo(consumed);
                return request;
            }

            if (status == HandshakeParseStatus.Incomplete)
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return null;
                }

                continue;
            }

            input.AdvanceTo(buffer.End);
            int code = HandshakeResponse.GetStatusCode(status);
            Log.HandshakeRejected(_manager.Logger, _connection.Id, _connection.RemoteEndPoint, code, error ?? status.ToString());
            _manager.Metrics.ConnectionRejected(code);
            _connection.Sender.TryWriteRaw((Status: status, Reason: error ?? status.ToString()), static (output, s) => HandshakeResponse.WriteError(output, s.Status, s.Reason));
            await _connection.Sender.FlushAsync().ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>The standalone server's admission of a parsed upgrade request, shared with ASP.NET Core hosting.
    /// Without a validator it completes at once and allocates nothing: no identity, no cancellation, no context.</summary>
    private ValueTask<AdmissionResult> AdmitAsync(HandshakeRequest request)
    {
        if (_manager.Options.ValidateHandshake is not null)
        {
            return AdmitWithValidatorAsync(request);
        }

        EndPoint? remote = _connection.RemoteEndPoint;
        ValueTask<AdmissionResult> admitted = _manager.AdmitAsync(_connection.Id, request.Origin, ConnectionManager.Normalize((remote as IPEndPoint)?.Address), remote, s_noIdentity, s_noContext, CancellationToken.None);
        return admitted.IsCompletedSuccessfully ? new ValueTask<AdmissionResult>(WithoutIdentity(admitted.Result, s_noIdentity)) : AwaitWithoutIdentityAsync(admitted);
    }

    private static async ValueTask<AdmissionResult> AwaitWithoutIdentityAsync(ValueTask<AdmissionResult> admitted)
        => WithoutIdentity(await admitted.ConfigureAwait(false), s_noIdentity);

    /// <summary>The admission with the application's validator: it sees an anonymous identity and a token that the
    /// handshake deadline or the shutdown cancels (<see cref="CancelValidation"/>).</summary>
    private async ValueTask<AdmissionResult> AdmitWithValidatorAsync(HandshakeRequest request)
    {
        WebSocketConnection connection = _connection;
        EndPoint? remote = connection.RemoteEndPoint;
        IPAddress? address = ConnectionManager.Normalize((remote as IPEndPoint)?.Address);
        ClaimsPrincipal anonymous = new(new ClaimsIdentity());
        using var validation = new CancellationTokenSource();
        _validation = validation;
        if (connection.State != ConnectionState.Handshake || connection.Timeouts.HandshakeExpired(_manager.TimeProvider.GetTimestamp()))
        {
            validation.Cancel();
        }

        AdmissionResult result;
        try
        {
            result = await _manager.AdmitAsync(
                connection.Id,
                request.Origin,
                address,
                remote,
                anonymous,
                token => new HandshakeContext(request.Path, request.QueryString, remote, connection.LocalEndPoint, _isSecure, _clientCertificate, anonymous, request.GetHeader, token),
                validation.Token).ConfigureAwait(false);
        }
        finally
        {
            _validation = null;
        }

        return WithoutIdentity(result, anonymous);
    }

    /// <summary>No identity was established: the anonymous principal is made again only if someone asks for User.</summary>
    private static AdmissionResult WithoutIdentity(AdmissionResult result, ClaimsPrincipal anonymous)
        => result.IsAdmitted && ReferenceEquals(result.User, anonymous) ? result with { User = null } : result;

    // Stand-ins for a handshake without a validator: never seen by anyone (the admission gives the identity back, and
    // WithoutIdentity drops it), so one of each serves every connection.
    private static readonly ClaimsPrincipal s_noIdentity = new(new ClaimsIdentity());
    private static readonly Func<CancellationToken, HandshakeContext> s_noContext = static _ => throw new InvalidOperationException("No handshake validator is set");

    private Task WriteErrorAsync(int statusCode, string reason, KeyValuePair<string, string>[]? headers = null, bool logged = false)
    {
        if (!logged)
        {
            Log.HandshakeRejected(_manager.Logger, _connection.Id, _connection.RemoteEndPoint, statusCode, reason);
        }

        _manager.Metrics.ConnectionRejected(statusCode);
        _connection.Sender.TryWriteRaw((statusCode, reason, headers), static (output, s) => HandshakeResponse.WriteError(output, s.statusCode, s.reason, s.headers));
        return _connection.Sender.FlushAsync();
    }
}
