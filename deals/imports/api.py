"""Import and export API: upload + dry run, job status, commit; streamed CSV exports."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from deals import exports, visibility
from deals.models import Contact, Deal, ImportJob, Prospect
from deals.visibility import deal_scope_q, prospect_scope_q
from winwin_crm.accounts.models import Team, User

from . import parsing, profiles
from . import services as s


class CanImport(permissions.BasePermission):
    message = "Only managers and admins import files."

    def has_permission(self, request, view):
        return visibility.user_can_import(request.user)


class ImportJobListSerializer(serializers.ModelSerializer):
    team: serializers.PrimaryKeyRelatedField[Team] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    progress_pct = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "status",
            "team",
            "file_name",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "total_rows",
            "processed_rows",
            "progress_pct",
            "error",
        ]

    def get_progress_pct(self, job) -> int:
        processed = s.import_job_progress(job)
        job.processed_rows = processed
        if job.status == ImportJob.Status.DONE:
            return 100
        return int(processed * 100 / job.total_rows) if job.total_rows else 0


class ImportJobSerializer(ImportJobListSerializer):
    headers = serializers.SerializerMethodField()
    default_owner: serializers.PrimaryKeyRelatedField[User] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )
    source_name = serializers.SerializerMethodField()

    class Meta(ImportJobListSerializer.Meta):
        fields = [
            *ImportJobListSerializer.Meta.fields,
            "delimiter",
            "headers",
            "column_mapping",
            "stage_mapping",
            "date_format",
            "on_error",
            "update_existing",
            "default_owner",
            "source",
            "source_name",
            "files",
            "report",
        ]

    def get_headers(self, job) -> list[str]:
        return parsing.read_header(job.content, job.delimiter)

    def get_source_name(self, job) -> str:
        """The CRM recognised (or chosen) for the file, e.g. "HubSpot"; "" for a generic file."""
        profile = profiles.get(job.source)
        return profile.name if profile else ""


class _OptionalBoolean(serializers.BooleanField):
    # DRF reads a boolean missing from a multipart form as False; here missing means
    # "keep the job's setting" (update existing records by default).
    default_empty_html = serializers.empty


class _OptionsSerializer(serializers.Serializer):
    """Mapping and options; in multipart forms the JSON fields arrive as JSON text."""

    mapping = serializers.JSONField(
        required=False, binary=True, help_text='{"file header": "our field" or ""}'
    )
    stage_mapping = serializers.JSONField(
        required=False, binary=True, help_text='{"stage in the file": "our stage"}'
    )
    date_format = serializers.ChoiceField(choices=list(parsing.DATE_FORMATS), required=False)
    on_error = serializers.ChoiceField(choices=ImportJob.OnError.choices, required=False)
    update_existing = _OptionalBoolean(required=False, allow_null=True, default=None)
    default_owner = serializers.CharField(
        required=False, allow_blank=True, help_text="A rep of the team: id, username or email."
    )

    def validate_mapping(self, value):
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str | None) for k, v in value.items()
        ):
            raise serializers.ValidationError('Send an object {"file header": "field"}.')
        return {k: v or "" for k, v in value.items()}

    def validate_stage_mapping(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError('Send an object {"stage in the file": "stage"}.')
        bad = [v for v in value.values() if v and v not in parsing.STAGE_LABELS]
        if bad:
            raise serializers.ValidationError(
                f"Unknown stage {bad[0]!r}; choose one of: {', '.join(parsing.STAGE_LABELS)}."
            )
        return {str(k): v or "" for k, v in value.items()}

    def service_kwargs(self, team: Team) -> dict:
        data = self.validated_data
        kwargs = {
            "column_mapping": data.get("mapping"),
            "stage_mapping": data.get("stage_mapping"),
            "date_format": data.get("date_format"),
            "on_error": data.get("on_error"),
            "update_existing": data.get("update_existing"),
        }
        if data.get("default_owner"):
            kwargs["default_owner"] = _find_rep(team, data["default_owner"])
        return kwargs


def _find_rep(team: Team, value: str) -> User:
    reps = s.team_reps(team)
    rep = (
        reps.filter(id=int(value)).first()
        if value.isascii() and value.isdigit() and len(value) < 19
        else reps.filter(username__iexact=value).first() or reps.filter(email__iexact=value).first()
    )
    if rep is None:
        raise serializers.ValidationError(
            {"default_owner": [f"No rep of team {team} is called {value!r}."]}
        )
    return rep


class UploadSerializer(_OptionsSerializer):
    file = serializers.FileField(help_text="A CSV file, or a zip of an export's CSV files.")
    files = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        max_length=11,
        help_text="More files of the same export (organizations, people), joined to the "
        "file holding `kind` by their ids.",
    )
    kind = serializers.ChoiceField(choices=ImportJob.Kind.choices)
    team = serializers.IntegerField(required=False, help_text="Needed when you manage several.")
    # The API's name; DRF reads declared fields off the class, so shadowing is harmless.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=list(profiles.SOURCE_CHOICES),
        required=False,
        default=profiles.AUTO,
        help_text="The CRM that wrote the file: auto (recognised from the headers), "
        "generic, or a profile code.",
    )


class ImportJobPageSerializer(serializers.Serializer):
    """The paginated list, documented as it is sent ({count, next, previous, results})."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ImportJobListSerializer(many=True)


class ImportListCreateApi(APIView):
    """GET: your teams' imports. POST (multipart): upload a CSV → stored and dry-run."""

    permission_classes = [permissions.IsAuthenticated, CanImport]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(responses=ImportJobPageSerializer, operation_id="v1_imports_list")
    def get(self, request):
        from winwin_crm.api.pagination import StandardPagination

        paginator = StandardPagination()
        page = paginator.paginate_queryset(s.import_job_list(user=request.user), request, self)
        return paginator.get_paginated_response(ImportJobListSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": UploadSerializer}, responses={201: ImportJobSerializer}
    )
    def post(self, request):
        form = UploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        team = None
        if data.get("team") is not None:
            team = s.import_teams(request.user).filter(id=data["team"]).first()
            if team is None:
                raise serializers.ValidationError(
                    {"team": ["You can import only into a sales team you manage."]}
                )
        upload = data["file"]
        extras = data.get("files") or []
        if upload.size + sum(f.size for f in extras) > _max_bytes():
            raise serializers.ValidationError(
                {"file": [_too_big(upload.size + sum(f.size for f in extras))]}
            )
        target_team = team or _single_team(request.user)
        kwargs = {k: v for k, v in form.service_kwargs(target_team).items() if v is not None}
        job = s.import_job_create(
            user=request.user,
            file_name=upload.name,
            raw=upload.read(),
            extra_files=[(extra.name, extra.read()) for extra in extras],
            kind=data["kind"],
            team=target_team,
            source=data.get("source") or profiles.AUTO,
            **kwargs,
        )
        return Response(ImportJobSerializer(job).data, status=status.HTTP_201_CREATED)


def _max_bytes() -> int:
    from django.conf import settings

    return settings.IMPORT_MAX_BYTES


def _too_big(size: int) -> str:
    return (
        f"The file is {parsing.size_label(size)}; the largest file you can import is "
        f"{parsing.size_label(_max_bytes())}. Split it into smaller files."
    )


def _single_team(user) -> Team:
    teams = list(s.import_teams(user)[:2])
    if len(teams) != 1:
        raise serializers.ValidationError({"team": ["Choose the team to import into."]})
    return teams[0]


def _job_for(request, pk: int) -> ImportJob:
    # Jobs of teams the user does not manage answer 404, not 403: they do not exist for them.
    return get_object_or_404(s.import_job_list(user=request.user), pk=pk)


class ImportDetailApi(APIView):
    permission_classes = [permissions.IsAuthenticated, CanImport]

    @extend_schema(responses=ImportJobSerializer)
    def get(self, request, pk: int):
        return Response(ImportJobSerializer(_job_for(request, pk)).data)


class ImportValidateApi(APIView):
    """Dry-run again with another column mapping, stage table or options."""

    permission_classes = [permissions.IsAuthenticated, CanImport]

    @extend_schema(request=_OptionsSerializer, responses=ImportJobSerializer)
    def post(self, request, pk: int):
        job = _job_for(request, pk)
        form = _OptionsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        kwargs = form.service_kwargs(job.team)
        options = {k: v for k, v in kwargs.items() if v is not None}
        job = s.import_job_validate(job=job, **options)
        return Response(ImportJobSerializer(job).data)


class CommitSerializer(serializers.Serializer):
    on_error = serializers.ChoiceField(choices=ImportJob.OnError.choices, required=False)


class ImportCommitApi(APIView):
    """Queue the commit (one transaction). Poll GET imports/{id}/ for progress."""

    permission_classes = [permissions.IsAuthenticated, CanImport]

    @extend_schema(request=CommitSerializer, responses={202: ImportJobSerializer})
    def post(self, request, pk: int):
        job = _job_for(request, pk)
        form = CommitSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        job = s.import_job_queue_commit(job=job, on_error=form.validated_data.get("on_error"))
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


# --- Exports ---------------------------------------------------------------------------

# Lines joined per chunk sent to the client: fewer, larger writes than one per row.
LINES_PER_CHUNK = 500


def csv_response(lines, name: str) -> StreamingHttpResponse:
    def chunks():
        yield "\ufeff"  # a BOM, so Excel opens the UTF-8 file with the right characters
        buffer = []
        for line in lines:
            buffer.append(line)
            if len(buffer) >= LINES_PER_CHUNK:
                yield "".join(buffer)
                buffer = []
        if buffer:
            yield "".join(buffer)

    stamp = timezone.localdate().isoformat()
    response = StreamingHttpResponse(chunks(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="winwin-{name}-{stamp}.csv"'
    return response


def deals_export_queryset(user):
    return Deal.objects.filter(deal_scope_q(user))


def prospects_export_queryset(user):
    return Prospect.objects.filter(prospect_scope_q(user))


def contacts_export_queryset(user):
    return Contact.objects.filter(prospect_scope_q(user, prefix="prospect__"))


class _ExportApi(APIView):
    permission_classes = [permissions.IsAuthenticated]
    name = ""

    @extend_schema(
        parameters=[
            OpenApiParameter("team", OpenApiTypes.INT, description="Only this team's rows.")
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request):
        queryset = self.queryset_for(request.user)
        team = request.query_params.get("team")
        if team:
            # str.isdigit() is true for "²", which int() refuses: a 500 before this.
            team_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
            try:
                value = team_id.run_validation(team)
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"team": exc.detail}) from None
            queryset = queryset.filter(**{self.team_lookup: value})
        return csv_response(self.stream(queryset), self.name)


class DealsExportApi(_ExportApi):
    """The deals you may see, with totals, discount, margin, scores and open flag codes."""

    name = "deals"
    team_lookup = "team_id"

    def queryset_for(self, user):
        return deals_export_queryset(user)

    def stream(self, queryset):
        return exports.stream_deals_csv(queryset)


class ProspectsExportApi(_ExportApi):
    name = "prospects"
    team_lookup = "team_id"

    def queryset_for(self, user):
        return prospects_export_queryset(user)

    def stream(self, queryset):
        return exports.stream_prospects_csv(queryset)


class ContactsExportApi(_ExportApi):
    name = "contacts"
    team_lookup = "prospect__team_id"

    def queryset_for(self, user):
        return contacts_export_queryset(user)

    def stream(self, queryset):
        return exports.stream_contacts_csv(queryset)
