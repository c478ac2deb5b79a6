using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using UserDataApi.Persistence;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.UserData;

/// <summary>
/// The server's connections keep one generic plan per prepared statement (planning each get anew was
/// PostgreSQL's largest cost per get in the SPEC §8 benchmark), and the gets' batch statement's generic
/// plan still probes the unique index once per asked key, however many keys the user has stored.
/// </summary>
public sealed class QueryPlanTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    [Fact]
    public async Task The_servers_connections_plan_prepared_statements_generically()
    {
        var dataSource = fixture.Api.Services.GetRequiredService<NpgsqlDataSource>();

        Assert.Equal("force_generic_plan", await ShowAsync(dataSource, "plan_cache_mode"));
    }

    [Theory]
    [InlineData("", null, "force_generic_plan", "\"$user\", public")]
    [InlineData(";MaxAutoPrepare=10;Multiplexing=false", null, "force_generic_plan", "\"$user\", public")]
    [InlineData(";Options=-c search_path=other", null, "auto", "other")]
    [InlineData("", "-c statement_timeout=0", "auto", "\"$user\", public")]
    public async Task Generic_plans_are_the_default_unless_the_connection_string_or_PGOPTIONS_sets_options(
        string options, string? environmentOptions, string planCacheMode, string searchPath)
    {
        var connectionString = fixture.Api.Services.GetRequiredService<IConfiguration>().GetConnectionString(PersistenceExtensions.ConnectionStringName)!;
        await using var dataSource = PersistenceExtensions.BuildDataSource(RemoveOptions(connectionString) + options, environmentOptions);

        Assert.Equal(planCacheMode, await ShowAsync(dataSource, "plan_cache_mode"));
        Assert.Equal(searchPath, await ShowAsync(dataSource, "search_path"));
    }

    [Fact]
    public async Task Batched_gets_generic_plan_probes_the_unique_index_per_asked_key_for_a_user_with_many_keys()
    {
        var dataSource = fixture.Api.Services.GetRequiredService<NpgsqlDataSource>();
        // Many users with a few keys each, and one with thousands: the statistics a generic plan is built on
        // favour scanning all of a user's keys, which for the heavy user would cost thousands of rows per get.
        var heavyUser = UserDataFixture.NewUser();
        await using (var seed = dataSource.CreateCommand($"""
            INSERT INTO user_data_records (user_id, identity_provider, value_key, value_data, access_scope, client_app_id, created_at, updated_at)
            SELECT 'plan-user-' || u, 'telegram', 'key-' || k, 'v', 1, 'app-1', now(), now()
              FROM generate_series(1, 3000) u, generate_series(1, 5) k;
            INSERT INTO user_data_records (user_id, identity_provider, value_key, value_data, access_scope, client_app_id, created_at, updated_at)
            SELECT '{heavyUser}', 'telegram', 'key-' || k, 'v', 1, 'app-1', now(), now() FROM generate_series(1, 5000) k;
            ANALYZE user_data_records;
            """))
        {
            await seed.ExecuteNonQueryAsync();
        }

        // PREPARE and EXPLAIN EXECUTE in one batch, so that both run on the same (multiplexed) connection.
        // A batch of two gets: the heavy user's two keys, and a light user's key for another client app.
        var users = $"{{{heavyUser},plan-user-9}}";
        await using var explain = dataSource.CreateCommand($"""
            PREPARE get_plan(text[], smallint[], text[], text[], int[], text[]) AS {GetBatcher.BatchSql};
            EXPLAIN (VERBOSE) EXECUTE get_plan('{users}', '{"{0,0}"}', '{"{telegram,telegram}"}', '{"{app-1,app-2}"}', '{"{1,1,2}"}', '{"{key-7,key-4000,key-2}"}');
            """);
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            do
            {
                while (await reader.ReadAsync())
                {
                    plan.Add(reader.GetString(0));
                }
            }
            while (await reader.NextResultAsync());
        }

        var text = string.Join('\n', plan);
        Assert.Contains("$1", text); // a generic plan: parameters, not the values above
        var indexCondition = Assert.Single(plan, line => line.Contains("Index Cond:"));
        Assert.Contains("value_key", indexCondition);
        Assert.DoesNotContain(plan, line => line.Contains("Filter:") && line.Contains("value_key"));
        // The keys meet their gets by a hash, not by comparing every key with every get.
        Assert.DoesNotContain(plan, line => line.Contains("Join Filter:"));
    }

    private static async Task<string> ShowAsync(NpgsqlDataSource dataSource, string setting)
    {
        await using var command = dataSource.CreateCommand($"SHOW {setting}");
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static string RemoveOptions(string connectionString)
    {
        var keywords = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        keywords.Remove("Options");
        return keywords.ConnectionString;
    }
}
