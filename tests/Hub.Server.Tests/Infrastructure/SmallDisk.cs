using System.Diagnostics;

namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// A small disk of its own: a tmpfs of a few MiB mounted on a fresh temporary folder (<c>mount -t tmpfs -o size=…</c>), so
/// a test can fill it under a hub (<see cref="Fill"/>) and give the room back (<see cref="Free"/>). Mounting needs root,
/// as the tests run here and in CI; without it the test fails, saying so. Unmounted on dispose (lazily if a process that
/// the test failed to stop still holds a file there).
/// </summary>
public sealed class SmallDisk : IDisposable
{
    private const string FillerName = "filler";

    private SmallDisk(string path) => Path = path;

    /// <summary>The mount point.</summary>
    public string Path { get; }

    private string FillerPath => System.IO.Path.Combine(Path, FillerName);

    /// <summary>Mounts a tmpfs of <paramref name="megabytes"/> MiB on a new temporary folder.</summary>
    public static SmallDisk Mount(int megabytes)
    {
        var path = Directory.CreateTempSubdirectory("hub-small-disk-").FullName;
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m,mode=0777", "tmpfs", path);
        if (code != 0)
        {
            Directory.Delete(path);
            throw new InvalidOperationException($"mount -t tmpfs failed with {code} (the disk-full tests need root to mount a small tmpfs): {output}");
        }

        return new SmallDisk(path);
    }

    /// <summary>Fills every free byte with a file of its own; answers how many it took.</summary>
    public long Fill()
    {
        using var handle = File.OpenHandle(FillerPath, FileMode.Create, FileAccess.Write);
        long length = 0;
        foreach (var chunk in new[] { 1 << 20, 64 << 10, 4 << 10, 512, 1 })
        {
            var zeros = new byte[chunk];
            for (var i = 0; i < 1 << 16; i++)
            {
                try
                {
                    RandomAccess.Write(handle, zeros, length);
                    length += chunk;
                }
                catch (IOException)
                {
                    length = RandomAccess.GetLength(handle); // a write cut short keeps what it wrote
                    break;
                }
            }
        }

        Assert.True(new DriveInfo(Path).AvailableFreeSpace == 0, $"the disk at {Path} still has {new DriveInfo(Path).AvailableFreeSpace} bytes free");
        return length;
    }

    /// <summary>Deletes what <see cref="Fill"/> wrote.</summary>
    public void Free() => File.Delete(FillerPath);

    public void Dispose()
    {
        if (Run("umount", Path).Code != 0)
        {
            Run("umount", "-l", Path);
        }

        Directory.Delete(Path, recursive: true);
    }

    private static (int Code, string Output) Run(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill();
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within 30 s");
        }

        return (process.ExitCode, output.Result + error.Result);
    }
}
