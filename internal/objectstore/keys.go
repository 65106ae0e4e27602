package objectstore

// The key layout of the bucket, in one place: every object belongs to one
// user, below their prefix, so deleting an account is one prefix delete
// and an owner check is a prefix check.
//
//	users/{userID}/generations/{generationID}/output.{ext}   a copied result
//	users/{userID}/generations/{generationID}/thumbnail.jpg  its small variant for galleries
//	users/{userID}/generations/{generationID}/reference      a reference kept for a continuation
//	uploads/{userID}/{uploadID}                              a reference image the browser uploaded
//
// Uploads sit apart, below one prefix of their own, because they expire a
// day after they are made: a bucket lifecycle rule (and the sweep) needs
// one prefix to match them all. Deleting an account deletes both of its
// prefixes (UserPrefixes).

// UserPrefix holds everything a user owns but their uploads.
func UserPrefix(userID string) string { return "users/" + userID + "/" }

// UploadsPrefix holds every user's uploads.
const UploadsPrefix = "uploads/"

// UserPrefixes are the prefixes that hold everything a user owns.
func UserPrefixes(userID string) []string {
	return []string{UserPrefix(userID), UploadsPrefix + userID + "/"}
}

// UploadKey is one reference image a user uploaded directly to the
// bucket; its owner is in its key, so reading it under the reader's own
// id is the owner check.
func UploadKey(userID, uploadID string) string { return UploadsPrefix + userID + "/" + uploadID }

// GenerationPrefix holds everything one generation stored.
func GenerationPrefix(userID, generationID string) string {
	return UserPrefix(userID) + "generations/" + generationID + "/"
}

// ResultKey is a generation's copied result; ext is the image's format
// ("png", "jpeg", "webp").
func ResultKey(userID, generationID, ext string) string {
	return GenerationPrefix(userID, generationID) + "output." + ext
}

// ThumbnailKey is the small JPEG variant of a generation's result that
// galleries show. It has no format in its name to vary: a thumbnail is
// always a JPEG, so the asset route can find it from the row's ids alone.
func ThumbnailKey(userID, generationID string) string {
	return GenerationPrefix(userID, generationID) + "thumbnail.jpg"
}

// ReferenceKey is the reference image a handed-off generation keeps until
// its continuation has run.
func ReferenceKey(userID, generationID string) string {
	return GenerationPrefix(userID, generationID) + "reference"
}
