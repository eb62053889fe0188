using System.Runtime.InteropServices;

namespace Hub.Log.Sqlite;

/// <summary>
/// Which file a path names: its device and inode (Linux <c>statx</c>, one system call). The SQLite log takes it when it
/// opens the database and compares before it acknowledges a group commit, so a write into a file that was deleted or
/// replaced under the hub (which SQLite's open handle would take without complaint, and a restart would never see) is
/// refused instead of acknowledged.
/// </summary>
/// <remarks>Where <c>statx</c> is missing (not Linux), only a deleted file is told apart: the identity is the file's
/// existence.</remarks>
internal readonly record struct FileIdentity(ulong Device, ulong Inode)
{
    private const int AtFdCwd = -100;
    private const uint StatxBasicStats = 0x7ff;
    private const int StatxSize = 256;
    private const int InodeOffset = 32;        // struct statx (native byte order): __u64 stx_ino
    private const int DeviceMajorOffset = 136; // __u32 stx_dev_major, then __u32 stx_dev_minor
    private static readonly FileIdentity Exists = new(0, 0);
    private static bool _statxMissing;

    /// <summary>The identity of the file at <paramref name="path"/>, or <see langword="null"/> when no file is there.</summary>
    /// <exception cref="IOException">The path could not be looked at (other than: nothing is there).</exception>
    public static FileIdentity? Of(string path)
    {
        if (!Volatile.Read(ref _statxMissing) && OperatingSystem.IsLinux())
        {
            try
            {
                var buffer = new byte[StatxSize];
                if (Statx(AtFdCwd, path, 0, StatxBasicStats, buffer) == 0)
                {
                    var device = ((ulong)BitConverter.ToUInt32(buffer, DeviceMajorOffset) << 32) | BitConverter.ToUInt32(buffer, DeviceMajorOffset + 4);
                    return new FileIdentity(device, BitConverter.ToUInt64(buffer, InodeOffset));
                }

                var errno = Marshal.GetLastPInvokeError();
                return errno is 2 or 20 // ENOENT, ENOTDIR: nothing there
                    ? null
                    : throw new IOException($"statx('{path}') failed with errno {errno}");
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                Volatile.Write(ref _statxMissing, true);
            }
        }

        return File.Exists(path) ? Exists : null;
    }

    /// <inheritdoc />
    public override string ToString() => $"device {Device >> 32}:{Device & uint.MaxValue}, inode {Inode}";

    // DllImport rather than LibraryImport: the source-generated stub needs unsafe code, which this project does not allow.
    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Statx(int dirFd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, [Out] byte[] buffer);
}
