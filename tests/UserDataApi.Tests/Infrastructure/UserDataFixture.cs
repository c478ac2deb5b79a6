using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using UserDataApi.Persistence;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>One authority, one database and one started server, shared by a test class.</summary>
public sealed class UserDataFixture : IAsyncLifetime
{
    public TestAuthority Authority { get; private set; } = null!;
    public ApiFactory Api { get; private set; } = null!;
    public UserDataClient Client { get; private set; } = null!;
    public string ConnectionString { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Authority = await TestAuthority.StartAsync();
        ConnectionString = await TestPostgres.CreateDatabaseAsync();
        Api = await new ApiFactory(Authority, ConnectionString).StartedAsync();
        Client = new UserDataClient(Api.CreateClient());
    }

    public static string NewUser() => "user-" + Guid.NewGuid().ToString("N");

    /// <summary>A by-idp filing, for the batchers' tests.</summary>
    public static UserDataApi.UserData.Filing ByIdp(string user, string identityProvider = "telegram") =>
        new(UserDataFamily.ByIdentityProvider, user, identityProvider);

    /// <summary>Counts the stored records of one user, straight from the database.</summary>
    public async Task<int> CountRecordsAsync(string userId)
    {
        await using var services = Api.Services.CreateAsyncScope();
        return await services.ServiceProvider.GetRequiredService<UserDataDbContext>().Records.CountAsync(r => r.UserId == userId);
    }

    /// <summary>Stores a record directly in the database, bypassing the API.</summary>
    public async Task SeedAsync(string userId, string identityProvider, string key, string value, AccessScope scope, string clientApp)
    {
        await using var services = Api.Services.CreateAsyncScope();
        var db = services.ServiceProvider.GetRequiredService<UserDataDbContext>();
        var now = DateTime.UtcNow;
        db.Records.Add(new UserDataRecord
        {
            UserId = userId, IdentityProvider = identityProvider, Key = key, Value = value,
            AccessScope = scope, ClientAppId = clientApp, CreatedAt = now, UpdatedAt = now,
        });
        await db.SaveChangesAsync();
    }

    public async Task DisposeAsync()
    {
        await Api.DisposeAsync();
        await Authority.DisposeAsync();
    }
}
