using WsGateway.Trading;

namespace WsGateway.Dispatch.Tests;

/// <summary>Encodes schemas/trading.xml messages with the generated encoders.</summary>
internal static class Messages
{
    public static byte[] Trade(ulong tradeId, char symbol, double price, uint quantity)
    {
        var buffer = new byte[256];
        var trade = new TradeEncoder().WrapAndApplyHeader(buffer, 0);
        trade.TradeId = tradeId;
        trade.Symbol = (byte)symbol;
        trade.Price = price;
        trade.Quantity = quantity;
        return buffer[..(MessageHeaderEncoder.EncodedLength + trade.EncodedLength)];
    }

    public static byte[] Order(ulong orderId, char symbol, Side side, OrderType type, double price, uint quantity, ulong timestamp)
    {
        var buffer = new byte[256];
        var order = new OrderEncoder().WrapAndApplyHeader(buffer, 0);
        order.OrderId = orderId;
        order.Symbol = (byte)symbol;
        order.Side = side;
        order.OrderType = type;
        order.Price = price;
        order.Quantity = quantity;
        order.Timestamp = timestamp;
        return buffer[..(MessageHeaderEncoder.EncodedLength + order.EncodedLength)];
    }

    public static byte[] Position(uint account, char symbol, long netQuantity, double averagePrice, double realizedPnl, (char Venue, long Quantity, double Price)[] fills)
    {
        var buffer = new byte[1024];
        var position = new PositionEncoder().WrapAndApplyHeader(buffer, 0);
        position.Account = account;
        position.Symbol = (byte)symbol;
        position.NetQuantity = netQuantity;
        position.AveragePrice = averagePrice;
        position.RealizedPnl = realizedPnl;
        var group = position.FillsCount(fills.Length);
        foreach ((char venue, long quantity, double price) in fills)
        {
            group.Next();
            group.Venue = (byte)venue;
            group.Quantity = quantity;
            group.Price = price;
        }

        return buffer[..(MessageHeaderEncoder.EncodedLength + position.EncodedLength)];
    }
}
