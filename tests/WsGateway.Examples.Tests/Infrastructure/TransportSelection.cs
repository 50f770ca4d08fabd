using System.Runtime.CompilerServices;

namespace WsGateway.Examples.Tests.Infrastructure;

/// <summary>Applies <c>WSGW_TEST_TRANSPORT</c> (<see cref="TransportUnderTest"/>) when this assembly loads, before any test.</summary>
internal static class TransportSelection
{
    [ModuleInitializer]
    internal static void Select() => TransportUnderTest.Select();
}
