package fakecloud

import (
	"bytes"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The Azure Resource Manager side of the fake: Resource SKUs
// (Microsoft.Compute/skus), which say per VM size and region how many GPUs,
// vCPUs and GB of memory it has, which zones offer it, and whether the
// subscription may deploy it.
const (
	// AzureDemoSubscription is the subscription the fake's Resource SKUs
	// answer for; any other is not found.
	AzureDemoSubscription = "6f0c1a52-3d8e-4b7a-9c15-2e4d8f7a9b30"
	// AzureDemoToken is the bearer token the fake's Resource Manager
	// accepts by default.
	AzureDemoToken = "fake-arm-access-token"
	// AzureSKUsAPIVersion is the api-version armcompute's
	// ResourceSKUsClient sends.
	AzureSKUsAPIVersion = "2021-07-01"
	// AzureDemoTenant, AzureDemoClientID and AzureDemoClientSecret are
	// the service principal the fake's Microsoft Entra ID token endpoint
	// accepts; it issues AzureDemoToken.
	AzureDemoTenant       = "3c9e4f71-0a5b-4d2c-8e6f-7b1a2c3d4e5f"
	AzureDemoClientID     = "8d2f6a9c-1e3b-4c5d-a7f8-9b0c1d2e3f4a"
	AzureDemoClientSecret = "fake~client.secret-for-tests"
)

//go:embed testdata/azure-skus/*.json
var azureSKUsRecorded embed.FS

// azureSKUsPath matches the Resource SKUs list of a subscription.
var azureSKUsPath = regexp.MustCompile(`(?i)^/subscriptions/([^/]+)/providers/Microsoft\.Compute/skus$`)

// azureSKULocationFilter is the one $filter the real API supports.
var azureSKULocationFilter = regexp.MustCompile(`^\s*location\s+eq\s+'([^']*)'\s*$`)

// azureSKU is one Resource SKU, in the field order of the real API. Only
// what the recording needs is typed; the rest is kept as it was written.
type azureSKU struct {
	ResourceType string            `json:"resourceType"`
	Name         string            `json:"name"`
	Tier         string            `json:"tier,omitempty"`
	Size         string            `json:"size,omitempty"`
	Family       string            `json:"family,omitempty"`
	Locations    []string          `json:"locations"`
	LocationInfo []json.RawMessage `json:"locationInfo"`
	Capabilities []azureSKUCap     `json:"capabilities,omitempty"`
	Restrictions []json.RawMessage `json:"restrictions"`
}

type azureSKUCap struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type azureSKUPage struct {
	Value    []azureSKU `json:"value"`
	NextLink string     `json:"nextLink,omitempty"`
}

// loadAzureSKUs decodes the embedded Resource SKUs, one file per region.
func loadAzureSKUs() ([]azureSKU, error) {
	names, err := fs.Glob(azureSKUsRecorded, "testdata/azure-skus/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var skus []azureSKU
	for _, name := range names {
		data, err := azureSKUsRecorded.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var p azureSKUPage
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		skus = append(skus, p.Value...)
	}
	return skus, nil
}

// armErrorBody renders Azure Resource Manager's error envelope.
func armErrorBody(status int, msg string) (string, []byte) {
	return armErrorCode(strings.ReplaceAll(http.StatusText(status), " ", ""), msg)
}

func armErrorCode(code, msg string) (string, []byte) {
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	return "application/json; charset=utf-8", body
}

func armError(w http.ResponseWriter, status int, code, msg string) {
	ct, body := armErrorCode(code, msg)
	w.Header().Set("Content-Type", ct)
	w.Header().Set("x-ms-failure-cause", "gateway")
	w.WriteHeader(status)
	w.Write(body)
}

// serveSKUs answers GET /subscriptions/{id}/providers/Microsoft.Compute/skus
// as Resource Manager does: a bearer token and an api-version are
// required, $filter may only name one location, and pages of SKUPageSize
// link to the next one with an absolute nextLink carrying $skiptoken.
func (a *Azure) serveSKUs(w http.ResponseWriter, r *http.Request) {
	m := azureSKUsPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		armError(w, http.StatusNotFound, "InvalidResourceType", "The resource type could not be found in the namespace.")
		return
	}
	if r.Method != http.MethodGet {
		armError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The requested method is not allowed.")
		return
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !a.tokenAccepted(token) {
		armError(w, http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing or invalid.")
		return
	}
	if !strings.EqualFold(m[1], AzureDemoSubscription) {
		armError(w, http.StatusNotFound, "SubscriptionNotFound", fmt.Sprintf("The subscription '%s' could not be found.", m[1]))
		return
	}
	q := r.URL.Query()
	if q.Get("api-version") == "" {
		armError(w, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
		return
	}
	location := ""
	if f := q.Get("$filter"); f != "" {
		fm := azureSKULocationFilter.FindStringSubmatch(f)
		if fm == nil {
			armError(w, http.StatusBadRequest, "InvalidFilter", "Only the location filter is supported.")
			return
		}
		location = fm[1]
	}
	skip := 0
	if t := q.Get("$skiptoken"); t != "" {
		b, err := base64.RawURLEncoding.DecodeString(t)
		if err == nil {
			skip, err = strconv.Atoi(string(b))
		}
		if err != nil || skip < 0 {
			armError(w, http.StatusBadRequest, "InvalidSkipToken", "The skip token is not valid.")
			return
		}
	}

	var matched []azureSKU
	for _, s := range a.skus {
		if location == "" || containsFold(s.Locations, location) {
			matched = append(matched, s)
		}
	}
	ft, faulty := FaultOf(r)
	size := a.opts.SKUPageSize
	var out azureSKUPage
	next := skip + size
	switch {
	case faulty && ft.Kind == Empty:
		next = -1
	case faulty && ft.Kind == EndlessPages:
		out.Value = matched[:min(size, len(matched))]
	default:
		if skip < len(matched) {
			out.Value = matched[skip:min(skip+size, len(matched))]
		}
		if next >= len(matched) {
			next = -1
		}
	}
	if out.Value == nil {
		out.Value = []azureSKU{}
	}
	if next >= 0 {
		out.NextLink = armNextLink(r, next)
	}
	var body any = out
	if faulty && ft.Kind == WrongTypes {
		body = wrongTypedSKUs(out)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(body)
}

// wrongTypedSKUs is p with every SKU's capabilities as one object of
// numbers instead of an array of name/value strings.
func wrongTypedSKUs(p azureSKUPage) any {
	skus := make([]map[string]any, len(p.Value))
	for i, s := range p.Value {
		caps := map[string]any{}
		for _, c := range s.Capabilities {
			v, err := strconv.ParseFloat(c.Value, 64)
			if err != nil {
				caps[c.Name] = c.Value
				continue
			}
			caps[c.Name] = v
		}
		skus[i] = map[string]any{"resourceType": s.ResourceType, "name": s.Name, "locations": s.Locations,
			"locationInfo": s.LocationInfo, "capabilities": caps, "restrictions": s.Restrictions}
	}
	return map[string]any{"value": skus, "nextLink": p.NextLink}
}

func (a *Azure) tokenAccepted(token string) bool {
	tokens := a.opts.SKUTokens
	if len(tokens) == 0 {
		tokens = []string{AzureDemoToken}
	}
	for _, t := range tokens {
		if token == t {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// armNextLink is the absolute URL of the page starting at skip: the
// request's own, with $skiptoken replaced, as Resource Manager sends it.
func armNextLink(r *http.Request, skip int) string {
	q := r.URL.Query()
	q.Set("$skiptoken", base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(skip))))
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}

// azureEntraPath matches the two Microsoft Entra ID endpoints a client
// credential uses: the tenant's OpenID configuration and its token
// endpoint.
var azureEntraPath = regexp.MustCompile(`^/([^/]+)/(v2\.0/\.well-known/openid-configuration|oauth2/v2\.0/token)$`)

// isEntraPath reports whether path is one of the token endpoints.
func isEntraPath(path string) bool { return azureEntraPath.MatchString(path) }

// serveEntra is a Microsoft Entra ID authority for AzureDemoTenant that
// grants client-credentials tokens to AzureDemoClientID, as azidentity's
// ClientSecretCredential asks for them (with instance discovery off: an
// authority that is not Microsoft's is not discovered).
func (a *Azure) serveEntra(w http.ResponseWriter, r *http.Request) {
	m := azureEntraPath.FindStringSubmatch(r.URL.Path)
	entraError := func(status int, code, desc string) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"error": code, "error_description": desc, "error_codes": []int{}})
	}
	if m == nil || m[1] != AzureDemoTenant {
		entraError(http.StatusBadRequest, "invalid_tenant", "AADSTS90002: Tenant not found.")
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + r.Host + "/" + m[1]
	if m[2] != "oauth2/v2.0/token" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(map[string]any{
			"token_endpoint":                        base + "/oauth2/v2.0/token",
			"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
			"issuer":                                base + "/v2.0",
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
			"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		})
		return
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		entraError(http.StatusBadRequest, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests.")
		return
	}
	switch {
	case r.PostForm.Get("grant_type") != "client_credentials":
		entraError(http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
	case r.PostForm.Get("client_id") != AzureDemoClientID:
		entraError(http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application not found in the directory.")
	case r.PostForm.Get("client_secret") != AzureDemoClientSecret:
		entraError(http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
	case !slices.ContainsFunc(strings.Fields(r.PostForm.Get("scope")), func(s string) bool { return strings.HasSuffix(s, "/.default") }):
		entraError(http.StatusBadRequest, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid.")
	default:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
			"access_token": AzureDemoToken})
	}
}
