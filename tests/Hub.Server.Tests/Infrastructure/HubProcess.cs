using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// A real hub in a child process (<c>dotnet Hub.Server.dll</c>, the build next to the tests) on 127.0.0.1 and a free
/// port, so a test can kill it (SIGKILL: a crash) or stop it (SIGTERM: a graceful shutdown) and start another on the
/// same files. It only ever signals the process it started, by its id, and kills it on dispose.
/// </summary>
public sealed partial class HubProcess : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errorClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private HubProcess(Process process) => _process = process;

    /// <summary>The hub's base address, e.g. http://127.0.0.1:41234/ (once started).</summary>
    public Uri Address => _listening.Task.IsCompletedSuccessfully ? _listening.Task.Result : throw new InvalidOperationException("The hub is not listening.\n" + Output);

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote to stdout and stderr so far, interleaved as read.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The hub's <c>Hub.Server.dll</c>: the test project references the server, so the build copies it next to the tests.</summary>
    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "Hub.Server.dll");

    /// <summary>
    /// Starts the hub with <paramref name="settings"/> as <c>--Key=Value</c> arguments in <paramref name="workingDirectory"/>,
    /// and waits until it says it listens. Throws (with its output) if it exits or stays silent past the timeout.
    /// <paramref name="environment"/> adds environment variables, as a container's <c>-e</c> would (e.g.
    /// <c>Hub__Log__Kind</c>).
    /// </summary>
    public static async Task<HubProcess> StartAsync(string workingDirectory, IReadOnlyDictionary<string, string>? settings = null, TimeSpan? timeout = null, string? serverDll = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var hub = Launch(workingDirectory, settings, serverDll ?? ServerDll, environment);
        try
        {
            var exited = hub._process.WaitForExitAsync();
            var first = await Task.WhenAny(hub._listening.Task, exited, Task.Delay(timeout ?? DefaultTimeout));
            if (first != hub._listening.Task)
            {
                var why = first == exited ? $"exited with code {hub._process.ExitCode}" : $"did not listen within {timeout ?? DefaultTimeout}";
                if (first == exited)
                {
                    await hub.WaitForOutputAsync();
                }

                throw new InvalidOperationException($"The hub (pid {hub.Id}) {why}. Its output:\n{hub.Output}");
            }

            return hub;
        }
        catch
        {
            await hub.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts the hub expecting it to refuse to start: answers its exit code and output once it exits. Fails if it
    /// starts listening instead, or keeps running past the timeout.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunExpectingExitAsync(string workingDirectory, IReadOnlyDictionary<string, string>? settings = null, TimeSpan? timeout = null)
    {
        await using var hub = Launch(workingDirectory, settings, ServerDll, environment: null);
        var exited = hub._process.WaitForExitAsync();
        var first = await Task.WhenAny(exited, hub._listening.Task, Task.Delay(timeout ?? DefaultTimeout));
        if (first != exited)
        {
            var why = first == hub._listening.Task ? "started listening" : $"was still running after {timeout ?? DefaultTimeout}";
            throw new InvalidOperationException($"The hub (pid {hub.Id}) was expected to stop at startup but {why}. Its output:\n{hub.Output}");
        }

        await hub.WaitForOutputAsync();
        return (hub._process.ExitCode, hub.Output);
    }

    /// <summary>Kills the process (SIGKILL, as a crash or a power cut would: nothing runs in it after) and waits for it to exit.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }

        await _process.WaitForExitAsync().WaitAsync(DefaultTimeout);
        await WaitForOutputAsync();
    }

    /// <summary>
    /// Asks the process to stop (SIGTERM, as <c>docker stop</c> or systemd would) and waits for it to exit. Answers true
    /// if it exited by itself within <paramref name="timeout"/>; false if it had to be killed.
    /// </summary>
    public async Task<bool> StopAsync(TimeSpan? timeout = null)
    {
        if (_process.HasExited)
        {
            return true;
        }

        if (OperatingSystem.IsWindows())
        {
            // No SIGTERM on Windows; the tests run on Linux, where this branch is not taken.
            await KillAsync();
            return false;
        }

        if (SendSignal(_process.Id, Sigterm) != 0 && !_process.HasExited)
        {
            throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        var exited = _process.WaitForExitAsync();
        if (await Task.WhenAny(exited, Task.Delay(timeout ?? DefaultTimeout)) == exited)
        {
            await WaitForOutputAsync();
            return true;
        }

        await KillAsync();
        return false;
    }

    /// <summary>The exit code, once exited.</summary>
    public int ExitCode => _process.ExitCode;

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: false);
            }

            await _process.WaitForExitAsync().WaitAsync(DefaultTimeout);
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static HubProcess Launch(string workingDirectory, IReadOnlyDictionary<string, string>? settings, string serverDll, IReadOnlyDictionary<string, string>? environment)
    {
        if (!File.Exists(serverDll))
        {
            throw new FileNotFoundException("Hub.Server.dll is not there; build tests/Hub.Server.Tests.", serverDll);
        }

        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(serverDll);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add("http://127.0.0.1:0");
        info.ArgumentList.Add("--Logging:LogLevel:Default=Information");
        info.ArgumentList.Add("--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information");
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            info.ArgumentList.Add($"--{key}={value}");
        }

        // The console logger should not colour or buffer for a terminal that is not there.
        info.Environment["DOTNET_CONSOLE_ANSI_COLOR"] = "false";
        // Development: no credentials needed (Hub:Auth:Mode None) unless a test's settings say otherwise.
        info.Environment["ASPNETCORE_ENVIRONMENT"] = settings?.ContainsKey("environment") == true ? settings["environment"] : "Development";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var hub = new HubProcess(process);
        process.OutputDataReceived += (_, e) => hub.OnLine(e.Data, hub._outputClosed);
        process.ErrorDataReceived += (_, e) => hub.OnLine(e.Data, hub._errorClosed);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return hub;
    }

    private void OnLine(string? line, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (_gate)
        {
            _output.AppendLine(line);
        }

        if (ListeningLine().Match(line) is { Success: true } match)
        {
            _listening.TrySetResult(new Uri(match.Groups[1].Value + "/"));
        }
    }

    /// <summary>After exit, the redirected streams may still hold the last lines: wait (bounded) until both are read.</summary>
    private Task WaitForOutputAsync() =>
        Task.WhenAll(_outputClosed.Task, _errorClosed.Task).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(static _ => { }, TaskScheduler.Default);

    private const int Sigterm = 15;

    // DllImport rather than LibraryImport: the source-generated stub needs unsafe code, which this project does not allow.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SendSignal(int pid, int signal);

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
