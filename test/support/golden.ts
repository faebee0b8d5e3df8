// Golden bytes shared by several core test files, written by hand from the spec (not produced by
// the encoder under test).

/**
 * The spec's v3 tag-delete example (`...events.v2+json`: `mediaType`, `digest` and `size` always
 * present), as distribution writes it, with the given event id and timestamp.
 */
export const specTagDeleteV3 = (id: string, timestamp: string): string => `{
   "events": [
      {
         "id": "${id}",
         "timestamp": "${timestamp}",
         "action": "delete",
         "target": {
            "mediaType": "",
            "digest": "",
            "size": 0,
            "repository": "library/test",
            "tag": "latest"
         },
         "request": {
            "id": "r",
            "addr": "10.0.0.7",
            "host": "reg:5000",
            "method": "DELETE",
            "useragent": "curl/8.5.0"
         },
         "actor": {},
         "source": {
            "addr": "reg-0:5000",
            "instanceID": "i"
         }
      }
   ]
}`;
