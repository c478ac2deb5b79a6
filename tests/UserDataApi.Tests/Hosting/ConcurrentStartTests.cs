using Microsoft.Extensions.Logging.Abstractions;
using UserDataApi.Persistence;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Hosting;

/// <summary>
/// Several instances started at once on one empty database, as a deployment of more than one replica does: one of them
/// migrates, the others wait for it, and every one of them starts.
/// </summary>
public sealed class ConcurrentStartTests
{
    private const int Instances = 4;

    [Fact]
    public async Task Instances_that_start_together_on_an_empty_database_all_start_and_migrate_it_once()
    {
        await using var authority = await TestAuthority.StartAsync();
        var database = await TestPostgres.CreateDatabaseAsync();

        var servers = Enumerable.Range(0, Instances).Select(_ => ServerProcess.StartMigrating(authority, database)).ToArray();
        try
        {
            await Task.WhenAll(servers.Select(server => server.WaitUntilListeningAsync(TimeSpan.FromSeconds(90))));

            foreach (var server in servers)
            {
                Assert.DoesNotContain(server.OutputLines.Concat(server.ErrorLines), line => line.StartsWith("fail:") || line.StartsWith("crit:"));
            }
            var applied = await TestSql.ScalarAsync<long>(database, "SELECT count(*) FROM \"__EFMigrationsHistory\"");
            Assert.Equal(applied, await TestSql.ScalarAsync<long>(database, "SELECT count(DISTINCT \"MigrationId\") FROM \"__EFMigrationsHistory\""));
            Assert.Equal(1L, await TestSql.ScalarAsync<long>(database, "SELECT count(*) FROM pg_tables WHERE tablename = 'user_data_records'"));
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task An_instance_waits_for_the_migration_lock_says_so_and_starts_once_it_is_released()
    {
        await using var authority = await TestAuthority.StartAsync();
        var database = await TestPostgres.CreateDatabaseAsync();
        var held = await MigrationLock.AcquireAsync(database, NullLogger.Instance);

        await using var server = ServerProcess.StartMigrating(authority, database);
        await server.WaitForOutputAsync(line => line.Contains(MigrationLock.WaitingMessage), TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(server.OutputLines, line => line.Contains("Applying database migrations") || line.Contains("Now listening on"));
        Assert.Equal(0L, await TestSql.ScalarAsync<long>(database, "SELECT count(*) FROM pg_tables WHERE tablename = 'user_data_records'"));

        await held.DisposeAsync();
        await server.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(1L, await TestSql.ScalarAsync<long>(database, "SELECT count(*) FROM pg_tables WHERE tablename = 'user_data_records'"));
    }
}
