using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using UserDataApi.Auth;
using UserDataApi.Persistence;

namespace UserDataApi.Intents;

/// <summary>Links between provider accounts and users, which retrieve consults to answer userId and updateHumanUser.</summary>
/// <remarks>
/// A caller may manage only its own links, unless its token carries <c>Intents:AdminScope</c>: otherwise any
/// holder of the intents scope could link its own provider account to somebody else's user and sign in as them.
/// </remarks>
public sealed class IntentLinks(UserDataDbContext db, ExternalProviders providers, IntentScopes scopes, IOptions<IntentsOptions> options)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public async Task<Results<Ok<DetailsResponse>, JsonHttpResult<GatewayError>>> AddAsync(Caller caller, string userId, AddLinkRequest request, CancellationToken cancellationToken)
    {
        if (!scopes.MayManageLinksOf(caller, userId))
        {
            return NotYours();
        }
        if (request.IdpLink is not { } link || string.IsNullOrEmpty(link.IdpId) || string.IsNullOrEmpty(link.UserId))
        {
            return IntentErrors.InvalidArgument("idpLink.idpId and idpLink.userId are required");
        }
        if (!StoredText.IsStorable(link.IdpId) || !StoredText.IsStorable(link.UserId) || !StoredText.IsStorable(link.UserName))
        {
            return IntentErrors.InvalidArgument("idpLink values must not hold NUL");
        }
        if (providers.Find(link.IdpId) is null)
        {
            return IntentErrors.NotFound($"identity provider '{link.IdpId}' is not configured");
        }

        var now = DateTime.UtcNow;
        var stored = new IdpLink
        {
            IdpId = link.IdpId,
            LinkedUserId = link.UserId,
            LinkedUserName = link.UserName ?? "",
            UserId = userId,
            ResourceOwner = options.Value.ResourceOwner,
            Sequence = 1,
            CreatedAt = now,
        };
        db.Links.Add(stored);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (exception.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return IntentErrors.AlreadyExists("this provider account is already linked");
        }
        return TypedResults.Ok(new DetailsResponse(new Details(stored.Sequence, now, stored.ResourceOwner, now)));
    }

    public async Task<Results<Ok<ListLinksResponse>, JsonHttpResult<GatewayError>>> ListAsync(Caller caller, string userId, ListLinksRequest request, CancellationToken cancellationToken)
    {
        if (!scopes.MayManageLinksOf(caller, userId))
        {
            return NotYours();
        }
        var offset = request.Query?.Offset ?? 0;
        var limit = request.Query?.Limit ?? DefaultLimit;
        if (offset < 0 || limit is < 0 or > MaxLimit)
        {
            return IntentErrors.InvalidArgument($"query.offset must be at least 0 and query.limit between 0 and {MaxLimit}");
        }
        var links = db.Links.AsNoTracking().Where(l => l.UserId == userId);
        var total = await links.LongCountAsync(cancellationToken);
        var ordered = request.Query?.Asc == false
            ? links.OrderByDescending(l => l.CreatedAt).ThenByDescending(l => l.IdpId).ThenByDescending(l => l.LinkedUserId)
            : links.OrderBy(l => l.CreatedAt).ThenBy(l => l.IdpId).ThenBy(l => l.LinkedUserId);
        var page = await ordered
            .Skip((int)Math.Min(offset, int.MaxValue))
            .Take(limit == 0 ? DefaultLimit : limit)
            .Select(l => new IdpLinkInfo(l.IdpId, l.LinkedUserId, l.LinkedUserName))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new ListLinksResponse(new ListDetails(total, DateTime.UtcNow), page));
    }

    public async Task<Results<Ok<DetailsResponse>, JsonHttpResult<GatewayError>>> RemoveAsync(
        Caller caller, string userId, string idpId, string linkedUserId, CancellationToken cancellationToken)
    {
        if (!scopes.MayManageLinksOf(caller, userId))
        {
            return NotYours();
        }
        var removed = await db.Links
            .Where(l => l.UserId == userId && l.IdpId == idpId && l.LinkedUserId == linkedUserId)
            .ExecuteDeleteAsync(cancellationToken);
        if (removed == 0)
        {
            return IntentErrors.NotFound("link not found");
        }
        var now = DateTime.UtcNow;
        return TypedResults.Ok(new DetailsResponse(new Details(1, now, options.Value.ResourceOwner, null)));
    }

    private JsonHttpResult<GatewayError> NotYours() =>
        IntentErrors.PermissionDenied($"only the user itself, or a caller with the scope '{scopes.LinksAdmin}', may manage a user's links");
}
