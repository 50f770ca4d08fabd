namespace WsGateway;

/// <summary>
/// A handler that also wants to know when the messages of one socket read have all been delivered: the natural point
/// to hand on a batch (to a sink, a queue) without waiting for a timer on the hot path.
/// </summary>
/// <remarks>
/// <see cref="OnReadComplete"/> is called on the thread that delivered the messages, after the last callback of the
/// read and before the connection reads again; not after a read that delivered nothing. A handler may call
/// <see cref="IGatewayConnection.PauseReceiving"/> from it: nothing more is read until it resumes.
/// </remarks>
public interface IReadCompletionHandler : ITradeMessageHandler
{
    /// <summary>Called once the messages of one read have been delivered.</summary>
    void OnReadComplete();
}
