using WsGateway.Trading;

namespace WsGateway.Dispatch.Tests;

/// <summary>The handler of docs/sbe-generator.md ("Typed dispatch and the gateway"), compiled so the docs stay true.</summary>
internal sealed class DeskHandler : ITradingMessageHandler, ITradingConnectionEvents
{
    public void OnTrade(TradeDecoder trade) => Console.WriteLine($"trade {trade.TradeId} {trade.Price} x {trade.Quantity}");

    public void OnOrder(OrderDecoder order)
    {
        bool market = order.OrderType == OrderType.Market;
        Console.WriteLine($"order {order.OrderId} {order.Side} {(market ? "market" : order.Price.ToString())}");
    }

    public void OnPosition(PositionDecoder position)
    {
        var fills = position.Fills;
        while (fills.HasNext)
        {
            fills.Next();
            Console.WriteLine($"  {(char)fills.Venue}: {fills.Quantity} @ {fills.Price}");
        }
    }

    public void OnError(WsError error) => Console.WriteLine(error);

    /// <summary>The dispatcher loop of the docs, with a class handler.</summary>
    public static int DispatchAll(byte[] bytes, DeskHandler handler)
    {
        int count = 0;
        for (int offset = 0; offset < bytes.Length;)
        {
            SbeDispatchResult result = TradingMessageDispatcher.Dispatch(bytes.AsSpan(offset), ref handler);
            if (!result.IsDispatched)
            {
                Console.WriteLine(result);
                break;
            }

            offset += result.MessageLength;
            count++;
        }

        return count;
    }
}
