using FluentValidation;
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
public sealed class IntentLinks(
    UserDataDbContext db,
    ExternalProviders providers,
    IntentScopes scopes,
    IValidator<AddLinkRequest> addRules,
    IValidator<ListLinksRequest> listRules,
    IOptions<IntentsOptions> options,
    TimeProvider time)
{
    public async Task<IntentOutcome<DetailsResponse>> AddAsync(Caller caller, string userId, AddLinkRequest request, CancellationToken cancellationToken)
    {
        if (!scopes.MayManageLinksOf(caller, userId))
        {
            return NotYours();
        }
        if (addRules.Check(request) is { } invalid)
        {
            return invalid;
        }
        var link = request.IdpLink!;
        if (providers.Find(link.IdpId) is null)
        {
            return IntentFailures.ProviderNotFound(link.IdpId);
        }

        var now = time.GetUtcNow().UtcDateTime;
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
            return IntentFailures.LinkExists();
        }
        return new DetailsResponse(new Details(stored.Sequence, now, stored.ResourceOwner, now));
    }

    public async Task<IntentOutcome<ListLinksResponse>> ListAsync(Caller caller, string userId, ListLinksRequest request, CancellationToken cancellationToken)
    {
        if (!scopes.MayManageLinksOf(caller, userId))
        {
            return NotYours();
        }
        if (listRules.Check(request) is { } invalid)
        {
            return invalid;
        }
        var offset = request.Query?.Offset ?? 0;
        var limit = request.Query?.Limit ?? ListLinksRequestValidator.DefaultLimit;
        var links = db.Links.AsNoTracking().Where(l => l.UserId == userId);
        var total = await links.LongCountAsync(cancellationToken);
        var ordered = request.Query?.Asc == false
            ? links.OrderByDescending(l => l.CreatedAt).ThenByDescending(l => l.IdpId).ThenByDescending(l => l.LinkedUserId)
            : links.OrderBy(l => l.CreatedAt).ThenBy(l => l.IdpId).ThenBy(l => l.LinkedUserId);
        var page = await ordered
            .Skip((int)Math.Min(offset, int.MaxValue))
            .Take(limit == 0 ? ListLinksRequestValidator.DefaultLimit : limit)
            .Select(l => new IdpLinkInfo(l.IdpId, l.LinkedUserId, l.LinkedUserName))
            .ToListAsync(cancellationToken);
        return new ListLinksResponse(new ListDetails(total, time.GetUtcNow().UtcDateTime), page);
    }

    public async Task<IntentOutcome<DetailsResponse>> RemoveAsync(
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
            return IntentFailures.LinkNotFound();
        }
        return new DetailsResponse(new Details(1, time.GetUtcNow().UtcDateTime, options.Value.ResourceOwner, null));
    }

    private IntentError NotYours() => IntentFailures.LinksNotYours(scopes.LinksAdmin.ToString());
}
