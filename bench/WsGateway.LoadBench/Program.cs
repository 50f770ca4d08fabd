using WsGateway.LoadBench;

// dotnet run -c Release --project bench/WsGateway.LoadBench -- [--quick] [--only single] [--json results.json]
return await BenchCommand.Create().Parse(args).InvokeAsync().ConfigureAwait(false);
