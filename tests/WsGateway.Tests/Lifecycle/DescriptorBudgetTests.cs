using WsGateway.Connections;

namespace WsGateway.Tests.Lifecycle;

/// <summary>Issue 17, finding 2: the connection limits fitted into the process's descriptor limit
/// (<see cref="DescriptorBudget"/>), without a process limit.</summary>
public sealed class DescriptorBudgetTests
{
    [Fact]
    public void Limits_that_fit_are_kept()
    {
        DescriptorBudget budget = DescriptorBudget.Fit(limit: 1_048_576, inUse: 200, reserve: 256, maxConnections: 10_000, maxPendingHandshakes: 1_000);

        Assert.Equal((10_000, 1_000), (budget.MaxConnections, budget.MaxPendingHandshakes));
        Assert.Equal(1_048_576 - 200 - 256, budget.MaxSockets);
    }

    [Fact]
    public void Limits_that_do_not_fit_are_scaled_down_together_within_what_the_limit_leaves()
    {
        // ulimit -n 1024, as in the issue: 200 descriptors open at start, 256 kept free, so 568 client sockets.
        DescriptorBudget budget = DescriptorBudget.Fit(limit: 1024, inUse: 200, reserve: 256, maxConnections: 10_000, maxPendingHandshakes: 1_000);

        Assert.Equal(568, budget.Available);
        Assert.Equal(51, budget.MaxPendingHandshakes); // 568 * 1000 / 11000
        Assert.Equal(517, budget.MaxConnections);
        Assert.True(budget.MaxConnections + budget.MaxPendingHandshakes <= budget.Available);
        Assert.Equal(568, budget.MaxSockets);
    }

    [Fact]
    public void A_small_handshake_limit_is_scaled_too_and_connections_take_the_rest()
    {
        DescriptorBudget budget = DescriptorBudget.Fit(limit: 4096, inUse: 96, reserve: 256, maxConnections: 4000, maxPendingHandshakes: 10);

        Assert.Equal(3744, budget.Available);
        Assert.Equal(9, budget.MaxPendingHandshakes);
        Assert.Equal(3735, budget.MaxConnections);
    }

    [Fact]
    public void A_limit_with_no_room_left_keeps_one_connection_and_one_handshake()
    {
        DescriptorBudget budget = DescriptorBudget.Fit(limit: 256, inUse: 200, reserve: 256, maxConnections: 10_000, maxPendingHandshakes: 1_000);

        Assert.True(budget.Available < 0);
        Assert.Equal((1, 1), (budget.MaxConnections, budget.MaxPendingHandshakes));
        Assert.Equal(2, budget.MaxSockets);
    }

    [Fact]
    public void An_unlimited_process_keeps_the_limits()
    {
        DescriptorBudget budget = DescriptorBudget.Fit(limit: long.MaxValue, inUse: 200, reserve: 256, maxConnections: 10_000, maxPendingHandshakes: 1_000);

        Assert.Equal((10_000, 1_000), (budget.MaxConnections, budget.MaxPendingHandshakes));
        Assert.Equal(int.MaxValue, budget.MaxSockets);
    }

    [Theory]
    [InlineData(15)]
    [InlineData(2_000_000)]
    public void A_reserve_out_of_range_is_refused_by_validation(int reserve)
        => Assert.Equal($"ReservedFileDescriptors must be between 16 and 1048576, got {reserve}", new TradeGatewayOptions { ReservedFileDescriptors = reserve }.Validate());
}
