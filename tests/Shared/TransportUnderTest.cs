using System.Runtime.CompilerServices;

namespace WsGateway.Tests;

/// <summary>
/// Which transport the standalone servers of this test run use: <c>WSGW_TEST_TRANSPORT=kestrel</c> or <c>native</c>
/// (./test.sh runs the connection and example suites once with each); unset, the default (native on Linux).
/// </summary>
internal static class TransportUnderTest
{
    /// <summary>The transport asked for, or <see cref="GatewayTransport.Auto"/>.</summary>
    public static GatewayTransport Requested { get; private set; }

    /// <summary>The transport a standalone <c>ws://</c> server of this run must report.</summary>
    public static GatewayTransport Expected => Requested switch
    {
        GatewayTransport.Auto => OperatingSystem.IsLinux() ? GatewayTransport.Native : GatewayTransport.Kestrel,
        _ => Requested,
    };

    [ModuleInitializer]
    internal static void Select()
    {
        string? value = Environment.GetEnvironmentVariable("WSGW_TEST_TRANSPORT");
        Requested = value?.ToLowerInvariant() switch
        {
            null or "" => GatewayTransport.Auto,
            "kestrel" => GatewayTransport.Kestrel,
            "native" => GatewayTransport.Native,
            _ => throw new InvalidOperationException($"WSGW_TEST_TRANSPORT is '{value}': expected kestrel or native"),
        };
        TradeGatewayOptions.DefaultTransport = Requested;
    }
}
