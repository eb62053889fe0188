using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace Hub.Log.Sqlite;

/// <summary>
/// Room for a full disk. In WAL mode every write, a delete too, needs room in the write-ahead log, and a checkpoint needs
/// room to grow the database file to the pages the WAL holds: on a disk that is 100% full, retention could not delete a
/// row. So the log keeps a reserve: a file of <c>Hub:Log:Sqlite:ReserveBytes</c> beside the database (its path with
/// <c>-reserve</c>), made when the disk has twice its size free. When a write fails because the disk is full, the writer
/// <b>makes room</b> (<see cref="MakeRoom"/>): it deletes the reserve, runs a retention pass and checkpoints the WAL, then
/// tries the write once more before anyone is answered. From then on, until the disk has room again, the writer runs
/// retention and a checkpoint after every group commit (<see cref="KeepWithinRoom"/>), so the log stays within its
/// retention, new events reuse the pages retention freed inside the file, and the WAL starts again from its beginning in
/// the room it has: the hub goes on taking events on the full disk as long as retention deletes as much as arrives. The
/// reserve is made again (and this ends) once writes succeed and the disk has twice its size free. A write that still
/// fails is refused (503) as any failed write, and the writer makes room again each second until the probe write
/// succeeds. Only the writer touches the reserve (and the constructor, before the writer starts).
/// </summary>
public sealed partial class SqliteEventLog
{
    /// <summary>With no reserve kept (<c>ReserveBytes</c> 0), the free room at which a full disk is over (see <see cref="RoomBytes"/>).</summary>
    private const long MinRoomBytes = 1024 * 1024;

    private bool _diskFull;           // the writer's: a write found the disk full, and it has not had room since
    private bool _reserveInPlace;     // the writer's: the reserve was there, at its size, when last looked at
    private bool _reserveMissingSaid; // the writer's: said once that the reserve could not be made

    /// <summary>The reserve file: the database's path with <c>-reserve</c>, as SQLite names its <c>-wal</c> and <c>-shm</c>.</summary>
    internal string ReservePath => Path + "-reserve";

    private int ReserveBytes => _options.Sqlite.ReserveBytes;

    /// <summary>The free room at which the disk has room again: twice the reserve (so making it leaves as much free as it
    /// takes), at least <see cref="MinRoomBytes"/>.</summary>
    private long RoomBytes => Math.Max(2L * ReserveBytes, MinRoomBytes);

    /// <summary>Whether a write failed because the disk (or the file system's quota) is full.</summary>
    private static bool LacksSpace(Exception exception) => exception is SqliteException { SqliteErrorCode: SqliteFull };

    /// <summary>
    /// At start, and each second while the log is writable: makes the reserve if it is not in place and the disk has
    /// room (<see cref="RoomBytes"/>), which ends a full disk. Says when it is in place, and once when it cannot be made
    /// (not while a reserve spent on a full disk waits for room: that was said when it was spent).
    /// </summary>
    private void KeepReserve()
    {
        try
        {
            var reserve = new FileInfo(ReservePath);
            if (ReserveBytes > 0 && reserve.Exists && reserve.Length == ReserveBytes)
            {
                if (!_reserveInPlace)
                {
                    _reserveInPlace = true;
                    _reserveMissingSaid = false;
                    Log.ReserveInPlace(_logger, ReserveBytes, ReservePath);
                }

                _diskFull = false;
                return;
            }

            _reserveInPlace = false;
            if (reserve.Exists)
            {
                reserve.Delete(); // another size, or none (the setting changed): made again at this one
            }

            var free = new DriveInfo(System.IO.Path.GetDirectoryName(ReservePath)!).AvailableFreeSpace;
            if (free < RoomBytes)
            {
                if (ReserveBytes > 0 && !_diskFull && !_reserveMissingSaid)
                {
                    _reserveMissingSaid = true;
                    Log.ReserveNotMade(_logger, ReserveBytes, ReservePath, $"the disk has {free} bytes free, and it is made when the disk has {RoomBytes}", null);
                }

                return;
            }

            _diskFull = false;
            if (ReserveBytes == 0)
            {
                return;
            }

            WriteReserve();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDeleteReserve();
            if (!_reserveMissingSaid)
            {
                _reserveMissingSaid = true;
                Log.ReserveNotMade(_logger, ReserveBytes, ReservePath, ex.Message, ex);
            }

            return;
        }

        _reserveInPlace = true;
        _reserveMissingSaid = false;
        Log.ReserveInPlace(_logger, ReserveBytes, ReservePath);
    }

    /// <summary>Writes the reserve: real bytes (not a sparse file, which takes no room), random so that a compressing file
    /// system cannot shrink them, flushed to the disk.</summary>
    private void WriteReserve()
    {
        using var stream = new FileStream(ReservePath, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        var chunk = new byte[Math.Min(ReserveBytes, 1024 * 1024)];
        for (var written = 0; written < ReserveBytes; written += chunk.Length)
        {
            RandomNumberGenerator.Fill(chunk);
            stream.Write(chunk, 0, Math.Min(chunk.Length, ReserveBytes - written));
        }

        stream.Flush(flushToDisk: true);
    }

    private bool TryDeleteReserve()
    {
        try
        {
            File.Delete(ReservePath);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.ReserveNotMade(_logger, ReserveBytes, ReservePath, $"it could not be deleted: {ex.Message}", ex);
            return false;
        }
    }

    /// <summary>
    /// The disk is full: deletes the reserve (if it is there), runs a retention pass and checkpoints the WAL (so that the
    /// next write starts it again from its beginning). Returns how many events retention deleted.
    /// </summary>
    private int MakeRoom()
    {
        _diskFull = true;
        if (ReserveBytes > 0 && File.Exists(ReservePath) && TryDeleteReserve())
        {
            _reserveInPlace = false;
            Log.ReserveReleased(_logger, Path, ReserveBytes, ReservePath);
        }

        var deleted = 0;
        try
        {
            deleted = Trim();
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            Log.TrimFailed(_logger, ex);
        }

        Checkpoint();
        return deleted;
    }

    /// <summary>While the disk is full: after each group commit, retention and a checkpoint, so that the log stays within
    /// its retention on the full disk and the WAL does not grow past what one group needs.</summary>
    private void KeepWithinRoom()
    {
        if (!_diskFull)
        {
            return;
        }

        try
        {
            Trim();
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            Log.TrimFailed(_logger, ex);
        }

        Checkpoint();
    }

    /// <summary>Copies what the WAL holds into the database file without waiting for readers (<c>PASSIVE</c>); once all of it
    /// is copied and no reader is in the WAL, the next write starts the WAL again from its beginning.</summary>
    private void Checkpoint()
    {
        try
        {
            using var command = _writer.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
            using var reader = command.ExecuteReader();
            reader.Read();
            Log.Checkpointed(_logger, reader.GetInt64(1), reader.GetInt64(2));
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            Log.CheckpointFailed(_logger, ex.Message);
        }
    }
}
