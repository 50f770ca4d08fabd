using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using WsGateway.Tests.Infrastructure;
using WsGateway.Tests.Security;

namespace WsGateway.Tests.Lifecycle;

/// <summary>Issue 11, finding 4: the admission path in ASP.NET Core hosting gives its slot back whatever the
/// validator throws, and logs its refusals as the standalone server does.</summary>
public sealed class AdmissionTests
{
    [Fact]
    public async Task A_validator_throwing_TaskCanceledException_gives_its_slot_back_and_the_refusal_is_logged()
    {
        var handlers = new ConcurrentQueue<RecordingHandler>();
        (WebApplication app, Uri url) = await TestWebApp.StartAsync(services =>
        {
            services.AddLogging(logging => logging.AddFakeLogging());
            services.AddTradeGateway(TestWebApp.Collecting(handlers), o =>
            {
                o.MaxConnections = 2;
                o.ValidateHandshake = context => context.GetHeader("X-Fail") is null
                    ? ValueTask.FromResult(HandshakeResult.Accept())
                    : throw new TaskCanceledException("A call to the identity service timed out"); // as HttpClient does
            });
        });
        await using (app)
        {
            for (int i = 0; i < 3; i++)
            {
                (HttpStatusCode failed, ClientWebSocket refused) = await SecurityTestKit.TryConnectAsync(url, o => o.SetRequestHeader("X-Fail", "1"));
                refused.Dispose();
                Assert.Equal(HttpStatusCode.InternalServerError, failed);
            }

            // Both slots are free again: two clients get in.
            (HttpStatusCode first, ClientWebSocket a) = await SecurityTestKit.TryConnectAsync(url);
            (HttpStatusCode second, ClientWebSocket b) = await SecurityTestKit.TryConnectAsync(url);
            using (a)
            using (b)
            {
                Assert.Equal(HttpStatusCode.SwitchingProtocols, first);
                Assert.Equal(HttpStatusCode.SwitchingProtocols, second);
            }

            FakeLogCollector logs = app.Services.GetFakeLogCollector();
            Assert.Equal(3, logs.GetSnapshot().Count(r => r.Level == LogLevel.Information && r.Message.Contains("handshake refused with 500", StringComparison.Ordinal)));
        }
    }
}
