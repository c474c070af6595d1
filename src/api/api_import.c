/* api_import.c — bulk import/export over HTTP (placeholder until the
 * import module lands). */
#include "api/api.h"

void api_import_users(struct http_request *r, void *app)
{
	http_errorf(r, CAIRN_ENOTFOUND, "not_implemented", "", "Import over HTTP is not available yet.");
}
void api_import_events(struct http_request *r, void *app)
{
	http_errorf(r, CAIRN_ENOTFOUND, "not_implemented", "", "Import over HTTP is not available yet.");
}
void api_export_users(struct http_request *r, void *app)
{
	http_errorf(r, CAIRN_ENOTFOUND, "not_implemented", "", "Export over HTTP is not available yet.");
}
void api_export_events(struct http_request *r, void *app)
{
	http_errorf(r, CAIRN_ENOTFOUND, "not_implemented", "", "Export over HTTP is not available yet.");
}
