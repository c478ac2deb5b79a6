using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Hosting;

/// <summary>A newcomer's first sight of the server: a first start on an empty database logs no error.</summary>
public sealed class FirstStartTests
{
    [Fact]
    public async Task A_first_start_that_migrates_an_empty_database_logs_no_fail_line()
    {
        await using var authority = await TestAuthority.StartAsync();
        var database = await TestPostgres.CreateDatabaseAsync();

        await using var server = ServerProcess.StartMigrating(authority, database);
        await server.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));

        Assert.Contains(server.OutputLines, line => line.Contains("Applying database migrations"));
        Assert.Equal(1L, await TestSql.ScalarAsync<long>(database, "SELECT count(*) FROM pg_tables WHERE tablename = 'user_data_records'"));
        Assert.DoesNotContain(server.OutputLines.Concat(server.ErrorLines), line => line.StartsWith("fail:") || line.StartsWith("crit:"));
    }
}
