using Hub.Server;
using Hub.Server.Handlers;

namespace HandlerApp;

/// <summary>
/// A plain ASP.NET Core app with Hub and one handler, <see cref="RecordingHandler"/>, on <c>orders.&gt;</c>. Its
/// settings in code (MaxDemand 40, MinDemand 30, MaxConcurrency 4) may be overridden as any handler's are
/// (<c>--Hub:Handlers:recorder:MaxConcurrency=…</c>); <c>Recorder:Path</c> is the file it records to and
/// <c>Recorder:HoldKey</c> a key whose events it never completes.
/// </summary>
public static class HandlerHostProgram
{
    public static async Task Main(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddSingleton(new Recorder(
            builder.Configuration["Recorder:Path"] ?? throw new InvalidOperationException("Recorder:Path is required: the file the handler records to."),
            builder.Configuration["Recorder:HoldKey"]));
        builder.Services.AddHub(builder.Configuration).AddHandler<RecordingHandler>(RecordingHandler.Name, o =>
        {
            o.Topics.Add("orders.>");
            o.MaxDemand = 40;
            o.MinDemand = 30;
            o.MaxConcurrency = 4;
        });

        await using var app = builder.Build();
        app.UseHub();
        app.MapHub();
        await app.RunAsync();
    }
}
