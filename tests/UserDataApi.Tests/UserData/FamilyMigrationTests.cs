using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using UserDataApi.Persistence;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.UserData;

/// <summary>The migration that made the sub-families namespaces (SPEC §3.4), applied to a database of the schema before it.</summary>
public sealed class FamilyMigrationTests
{
    private const string SchemaBefore = "20261201113049_LdapAttributes";
    private const int Users = 50;

    [Fact]
    public async Task By_idp_records_stored_before_the_migration_are_all_still_read_listed_paged_and_replaced_after_it()
    {
        await using var authority = await TestAuthority.StartAsync();
        var database = await TestPostgres.CreateDatabaseAsync();
        var users = Enumerable.Range(0, Users).Select(_ => UserDataFixture.NewUser()).ToArray();
        await using (var db = new UserDataDbContext(new DbContextOptionsBuilder<UserDataDbContext>().UseNpgsql(database).Options))
        {
            await db.GetService<IMigrator>().MigrateAsync(SchemaBefore);
        }
        // The rows as the previous version wrote them: no family column yet.
        await TestSql.ExecuteAsync(database, """
            INSERT INTO user_data_records (user_id, identity_provider, value_key, value_data, access_scope, client_app_id, created_at, updated_at)
            SELECT u, idp, 'key-' || k, u || '/' || idp || '/' || k, (k % 2)::smallint, CASE WHEN k < 3 THEN 'app-1' ELSE 'app-2' END, now(), now()
              FROM unnest($1::text[]) AS u, unnest(ARRAY['telegram', 'google']) AS idp, generate_series(0, 5) AS k
            """, (object)users);
        Assert.Equal(0L, await TestSql.ScalarAsync<long>(database,
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'user_data_records' AND column_name = 'family'"));

        await using var api = await new ApiFactory(authority, database).StartedAsync();
        var client = new UserDataClient(api.CreateClient());
        var calls = new FamilyCalls(client);

        Assert.Equal(Users * 2 * 6, await TestSql.ScalarAsync<long>(database, "SELECT count(*) FROM user_data_records WHERE family = 0"));
        foreach (var user in users)
        {
            var app1 = authority.CreateToken(user, "app-1");
            foreach (var idp in new[] { "telegram", "google" })
            {
                var get = await client.PostAsync("get", new { identity_provider = idp, value_keys = Enumerable.Range(0, 6).Select(k => $"key-{k}") }, app1);
                // app-1 owns key-0…2 and reads app-2's public (odd) keys 3 and 5
                Assert.Equal(Enumerable.Range(0, 6).Where(k => k < 3 || k % 2 == 1).ToDictionary(k => $"key-{k}", k => $"{user}/{idp}/{k}"), FamilyCalls.Values(get));
                var list = await client.PostAsync("list-get", new { identity_provider = idp }, app1);
                Assert.Equal(["key-0", "key-2"], list.Strings("keys_private"));
                Assert.Equal(["key-1"], list.Strings("keys_public"));
            }
        }
        var paging = authority.CreateToken(users[0], "app-1");
        var first = await client.PostAsync("shared-list-get", new { identity_provider = "telegram", page_size = 1 }, paging);
        var second = await client.PostAsync("shared-list-get", new { identity_provider = "telegram", page_size = 1, search_id = first.GetProperty("next_search_id").GetString() }, paging);
        Assert.Equal(["key-3", "key-5"], first.Strings("keys_shared").Concat(second.Strings("keys_shared")));

        // A replaced record stays one record; another client app's key is still refused; no other family sees them.
        Assert.Equal(0, (await client.PostAsync("set", new { identity_provider = "telegram", value_key = "key-0", value_data = "new" }, paging)).Result());
        Assert.Equal(-7, (await client.PostAsync("set", new { identity_provider = "telegram", value_key = "key-4", value_data = "x" }, paging)).Result());
        Assert.Equal(1, (await calls.GetAsync("by-user-id", paging, "key-0", "key-1")).Result());
        Assert.Equal(Users * 2 * 6, await TestSql.ScalarAsync<long>(database, "SELECT count(*) FROM user_data_records"));
        Assert.Equal(["ux_user_data_records_user_family_idp_key"], await TestSql.ColumnAsync<string>(database,
            "SELECT indexname FROM pg_indexes WHERE tablename = 'user_data_records' AND indexdef LIKE 'CREATE UNIQUE%' AND indexname <> 'pk_user_data_records' AND indexname NOT LIKE 'PK%'"));
    }
}
